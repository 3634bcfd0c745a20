"""A NUL character anywhere in a request is a clear 400, never a 500 and never a half-written change.

PostgreSQL refuses NUL in text, so a NUL that reaches a query or an insert is a server error.
selfcare.middleware.RefuseNulCharactersMiddleware stops it before anything runs. These tests find the
forms to attack by themselves: they walk the URLconf, open every page as each kind of visitor, read
every POST form on it, and send each one back with a NUL in every field.
"""

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.permissions import Role
from accounts.services.activation import activation_issue_invitation
from tests.accounts.test_profile import stepped_up
from tests.conftest import english_client, make_member, password_only_client, verified_client
from tests.factories import (
    BillingAccountFactory, MembershipFactory, StaffUserFactory, SubscriptionFactory, UserFactory,
)

pytestmark = pytest.mark.django_db

NUL = "\x00"
MESSAGE = "contains a character that is not allowed"


def _row_counts():
    """The number of rows of every table, in one query."""
    tables = sorted({model._meta.db_table for model in apps.get_models(include_auto_created=True)})
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def assert_refused(response, before):
    assert response.status_code == 400, (response.status_code, response.get("Location"))
    assert MESSAGE in response.content.decode()
    assert _row_counts() == before, "a refused request wrote something"


# Reading the site's own pages -----------------------------------------------------------------

class _Forms(HTMLParser):
    """The POST forms of a page: their action and the fields a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._form = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "button", "image", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                self._form["fields"].setdefault(attrs["name"], attrs.get("value", "on"))
            else:
                self._form["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag in ("textarea", "button"):
            self._form["fields"].setdefault(attrs["name"], attrs.get("value", ""))
        elif tag == "select":
            self._select = attrs["name"]
            self._form["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select and not self._form["fields"][self._select]:
            self._form["fields"][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _routes(patterns=None, namespace="", prefix=""):
    """(name, URL) for every route outside the back office, with its parameters filled in."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace != "admin":
                yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", list(pattern.pattern.converters.items())


@pytest.fixture
def site(company):
    """Visitors of every kind, and the URL of every route with real objects in it."""
    account = BillingAccountFactory(company=company)
    superuser = make_member(company, Role.SUPERUSER).user
    MembershipFactory(user=superuser, role=Role.SUPERUSER)  # a second company: the switcher is a form
    colleague = make_member(company, Role.READ_ONLY, email="colleague@example.com")
    subscription = SubscriptionFactory(company=company, account=account)
    values = {"int": colleague.pk, "str": "x" * 20, "slug": "x", "path": "x", "uuid": "0" * 32}
    urls = {}
    for name, converters in _routes():
        kwargs = {key: values.get(type(converter).__name__.replace("Converter", "").lower(), "x")
                  for key, converter in converters}
        if name == "subscriptions:detail":
            kwargs = {"pk": subscription.pk}
        urls[name] = reverse(name, kwargs=kwargs or None)
    clients = {
        "anonymous": english_client(),
        "password only": password_only_client(superuser),
        "signed in": verified_client(superuser),
        "stepped up": stepped_up(verified_client(superuser)),
    }
    # Links that only work with a real secret in them (made after the sign-ins, which change the reset token).
    urls["accounts:password_reset_confirm"] = reverse("accounts:password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(superuser.pk)), "token": default_token_generator.make_token(superuser)})
    invited = UserFactory(email="invited@example.com")
    invited.set_unusable_password()
    invited.save()
    urls["accounts:activate_invitation"] = reverse("accounts:activate_invitation", kwargs={
        "token": activation_issue_invitation(user=invited)})
    return urls, clients


def _forms_on_the_site(urls, clients):
    """Every distinct POST form that any visitor is shown on any page (after following redirects),
    with the visitor's client."""
    seen = {}
    for client in clients.values():
        for url in urls.values():
            response = client.get(url, follow=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            query = response.request.get("QUERY_STRING")
            page = response.request["PATH_INFO"] + (f"?{query}" if query else "")
            for form in parser.forms:
                form["action"] = form["action"] or page
                seen.setdefault((form["action"].split("?")[0], tuple(sorted(form["fields"]))), (client, form))
    return seen.values()


# The tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["accounts:users", "subscriptions:list"])
def test_a_nul_in_the_search_is_a_400(name, company, account):
    client = verified_client(make_member(company, Role.SUPERUSER).user)
    before = _row_counts()
    assert_refused(client.get(f"{reverse(name)}?q=%00"), before)
    response = client.get(f"{reverse(name)}?q=%00", HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_a_nul_in_any_parameter_of_any_page_is_a_400(site):
    urls, clients = site
    client = clients["signed in"]
    before = _row_counts()
    for name, url in urls.items():
        for query in ({"q": NUL}, {"page": f"1{NUL}"}, {f"x{NUL}": "1"}, {"next": f"/overview/{NUL}"}):
            response = client.get(f"{url}?{urlencode(query)}")
            assert response.status_code == 400, (name, query, response.status_code)
    assert_refused(client.get(f"{urls['accounts:users']}?q=%00"), before)


def test_a_nul_in_any_field_of_any_form_is_a_400_and_nothing_is_written(site):
    urls, clients = site
    forms = list(_forms_on_the_site(urls, clients))
    actions = {form["action"].split("?")[0] for _client, form in forms}
    # The walk must really reach the logins area's forms, or this test proves nothing.
    for expected in ("login", "verify", "password_reset", "apply", "activate", "profile_email",
                     "profile_mobile", "profile_password", "company_profile", "user_create", "reauth", "language",
                     "company_switch", "logout"):
        assert reverse(f"accounts:{expected}") in actions, expected
    assert any(action.startswith("/password-reset/") and action.endswith("/set-password/") for action in actions)
    assert any(action.startswith("/activate/invitation/") for action in actions)
    assert any(action.startswith(reverse("accounts:user_edit", kwargs={"pk": 1})[:-2]) for action in actions)
    for client, form in forms:
        for field in form["fields"]:
            if field == "csrfmiddlewaretoken":
                continue
            data = {**form["fields"], field: f"{form['fields'][field] or 'x'}{NUL}"}
            before = _row_counts()
            response = client.post(form["action"], data)
            assert response.status_code == 400, (form["action"], field, response.status_code)
            assert _row_counts() == before, (form["action"], field)


def test_a_nul_in_a_field_name_is_a_400_but_one_in_a_files_content_is_not(company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    superuser = make_member(company, Role.SUPERUSER).user
    client = verified_client(superuser)
    assert client.post(reverse("accounts:company_profile"), {f"city{NUL}": "Odense"}).status_code == 400
    # A NUL inside a file's content is data, not text: it is not refused. (Django's upload parser
    # already drops a NUL from a file's name.)
    upload = SimpleUploadedFile("list.xlsx", b"PK\x00\x03 binary content")
    assert MESSAGE not in client.post(reverse("accounts:company_profile"), {"file": upload}).content.decode()


def test_a_nul_in_a_header_or_the_path_is_a_400(client):
    before = _row_counts()
    assert_refused(client.post(reverse("accounts:login"), {"username": "a@example.com", "password": "x"},
                               HTTP_USER_AGENT=f"Mozilla{NUL}"), before)
    assert client.get(f"{reverse('accounts:activate_invitation', kwargs={'token': 'abc'})[:-1]}%00/").status_code == 400


def test_the_refusal_is_in_the_readers_language(client):
    response = english_client().get(f"{reverse('accounts:login')}?next=%00", HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 400 and "et tegn, der ikke er tilladt" in response.content.decode()
    response = english_client().get(f"{reverse('accounts:login')}?next=%00", HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400 and "ett tecken som inte är tillåtet" in response.content.decode()


def test_the_back_office_refuses_a_nul_too():
    staff = StaffUserFactory()
    response = verified_client(staff).get(f"{reverse('admin:accounts_user_changelist')}?q=%00")
    assert response.status_code == 400
