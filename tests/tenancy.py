"""The cross-tenant and permission checks every customer-side route must pass.

An app's test module declares its routes::

    class TestSubscriptionAccess(TenantRouteTests):
        routes = [
            RouteCheck("subscriptions:list", Permission.VIEW_SUBSCRIPTIONS, kind="list", make_row=subscription_row),
            RouteCheck("subscriptions:detail", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
            RouteCheck("subscriptions:block", Permission.MANAGE_SUBSCRIPTIONS, method="post",
                       make_object=subscription_in, ok_status=(302,),
                       expect_location=lambda case: reverse("subscriptions:detail", kwargs=case.kwargs),
                       effect=lambda case: Subscription.objects.get(**case.kwargs).status == "blocked"),
        ]

and each route is then proven to: send an anonymous visitor to sign in; send a password-only session
to the second-factor page; refuse a member without the permission (403 or 404); answer 404 for an
object of another company and for one outside a restricted account scope; and work for a member
with the permission (so the refusals above are not an accident). On top of that:

- a list or an export (``kind="list"`` / ``kind="export"``) must declare ``make_row``; the check then
  reads the page, its htmx fragment or the file, and proves that the login's own row is there and that
  another company's row and a row outside the restricted account scope are not;
- a redirect as the allowed outcome must say where it leads (``expect_location``), and a state-changing
  route what it did (``effect``);
- every state-changing route runs through a client that enforces CSRF, and a POST without the token
  must be refused with 403.

tests/test_url_coverage.py fails for any route that is neither declared here nor listed as public, and
(in a full run) for any declared check that did not run. A check that applies to none of a class's
routes fails as that test (tests/conftest.py), unless tests/route_checks_deselected.py names it with a
reason; then it is deselected.
"""

import io
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from accounts.permissions import ALL_PERMISSIONS
from tests.conftest import make_member, password_only_client, stepped_up, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, UserFactory

KINDS = ("page", "list", "export")
SAFE_METHODS = ("get", "head", "options")


class RouteCheckDeclarationError(TypeError):
    """A RouteCheck that cannot prove what it would claim (raised when the test module is imported)."""


@dataclass(eq=False)
class RouteCheck:
    name: str
    # The permission the route needs: one, a tuple meaning "any of these", or None for any member.
    permission: str | tuple | None
    method: str = "get"
    # Builds a row of the given company under the given account and returns the URL kwargs, e.g.
    # {"pk": subscription.pk}. None for routes without an object in the URL.
    make_object: Callable | None = None
    # Whether the object (or the listed row) hangs off a billing account: then a restricted account
    # scope must hide it.
    account_scoped: bool = True
    # POST data for the route, built from (company, account).
    make_data: Callable | None = None
    ok_status: tuple = (200,)
    # False for pages of the login itself (second factors): no company, so no cross-tenant checks.
    tenant: bool = True
    # "page" (one page or one object), "list" (a list page; its htmx fragment is read too) or "export"
    # (a CSV / xlsx file). A list or an export must declare make_row.
    kind: str = "page"
    # make_row(company, account) writes one row that the list or export shows, and returns a string that
    # appears in the response exactly when that row is listed (make it unique: tests.tenancy.marker()).
    # The check calls it three times: for the login's own row, for another company's row, and (when
    # account_scoped) for a row of the same company under an account outside the login's scope.
    make_row: Callable | None = None
    # Optional: other ways to make the foreign / out-of-scope row, same signature and return as make_row.
    make_foreign_row: Callable | None = None
    make_out_of_scope_row: Callable | None = None
    # Where an allowed redirect leads: a route name without arguments, or a function of the RouteCase
    # returning the URL. Compared with the Location's path.
    expect_location: str | Callable | None = None
    # For a state-changing route: a function of the RouteCase (after the request) that is true when the
    # route's effect happened (the row changed, the message was queued, the session switched ...).
    effect: Callable | None = None
    # The route sits behind the step-up ("confirm it is you"): the check for a member with the permission
    # steps up first, so it sees the route's own outcome (the step-up itself has its own tests).
    step_up: bool = False
    # Set by TenantRouteTests: the class that declared this check, and its position there.
    declared_in: type | None = field(default=None, repr=False)
    position: int = field(default=0, repr=False)

    def __post_init__(self):
        self.method = self.method.lower()
        if self.kind not in KINDS:
            raise RouteCheckDeclarationError(f"{self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind in ("list", "export"):
            if self.make_row is None:
                raise RouteCheckDeclarationError(
                    f"{self.name}: a {self.kind} must declare make_row(company, account) -> marker, so the checks "
                    "can prove that its own rows are in it and other companies' and out-of-scope rows are not."
                )
            if self.method not in SAFE_METHODS:
                raise RouteCheckDeclarationError(f"{self.name}: a {self.kind} is read with GET.")
            if not self.tenant:
                raise RouteCheckDeclarationError(f"{self.name}: a {self.kind} lists a company's rows (tenant=True).")

    def required(self) -> set[str]:
        if self.permission is None:
            return set()
        return {self.permission} if isinstance(self.permission, str) else set(self.permission)

    @property
    def changes_state(self) -> bool:
        return self.method not in SAFE_METHODS

    @property
    def key(self) -> str:
        """What the coverage test records: declaring class, position, method and route."""
        owner = f"{self.declared_in.__module__}.{self.declared_in.__qualname__}" if self.declared_in else "?"
        return f"{owner}[{self.position}] {self.method.upper()} {self.name}"

    def __str__(self):
        return f"{self.method.upper()} {self.name}"


@dataclass
class RouteCase:
    """One request of a check: what was set up, who asked, and what came back."""

    route: RouteCheck
    company: object
    account: object
    kwargs: dict
    user: object = None
    client: Client | None = None
    response: object = None

    @property
    def url(self) -> str:
        return reverse(self.route.name, kwargs=self.kwargs or None)


REGISTERED_ROUTE_CHECKS: list[RouteCheck] = []

_markers = itertools.count(1)


def marker(prefix: str = "row") -> str:
    """A string no other row shows by accident, for make_row."""
    return f"{prefix}-{next(_markers)}-{uuid.uuid4().hex[:8]}"


def applies_to(predicate):
    """Run a check only for the routes it makes sense for (conftest.pytest_generate_tests reads this)."""

    def decorate(test):
        test.applies_to = predicate
        return test

    return decorate


def route_check_names(cls) -> list[str]:
    """The checks (test methods taking ``route``) a TenantRouteTests class runs for its routes."""
    import inspect

    names = []
    for name in dir(cls):
        function = getattr(cls, name)
        if name.startswith("test_") and callable(function) and "route" in inspect.signature(function).parameters:
            names.append(name)
    return names


def checks_for(route: RouteCheck) -> set[str]:
    """The checks that must run for this route (those whose applies_to accepts it)."""
    cls = route.declared_in
    return {name for name in route_check_names(cls)
            if getattr(getattr(cls, name), "applies_to", lambda route: True)(route)}


# Clients: CSRF is enforced, as in a browser -----------------------------------------------------------

def csrf_client(client: Client | None = None) -> Client:
    """An English client that enforces CSRF, holding a CSRF cookie whose value it sends with every
    state-changing request (``csrf_headers``), as the portal's pages do through hx-headers/forms."""
    client = client or Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    client.csrf_secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = client.csrf_secret
    return client


def csrf_headers(client: Client) -> dict:
    secret = getattr(client, "csrf_secret", None)
    return {"HTTP_X_CSRFTOKEN": secret} if secret else {}


def signed_in(user) -> Client:
    return verified_client(user, client=csrf_client())


def response_text(response) -> str:
    """What a person would read in the response: the HTML, the CSV, or every cell of an xlsx file."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            "\t".join("" if value is None else str(value) for value in row)
            for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
        )
    return content.decode("utf-8-sig", errors="replace")


class TenantRouteTests:
    routes: list[RouteCheck] = []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "routes" not in cls.__dict__:
            return
        for position, route in enumerate(cls.routes):
            route.declared_in, route.position = cls, position
        REGISTERED_ROUTE_CHECKS.extend(cls.routes)

    # Helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _request(client, route, kwargs, company, account, *, csrf_token=True, **extra):
        url = reverse(route.name, kwargs=kwargs or None)
        if csrf_token:
            extra = {**csrf_headers(client), **extra}
        if route.method == "get":
            return client.get(url, **extra)
        data = route.make_data(company, account) if route.make_data else {}
        return getattr(client, route.method)(url, data, **extra)

    @staticmethod
    def _setup(route, company):
        account = BillingAccountFactory(company=company)
        kwargs = route.make_object(company, account) if route.make_object else {}
        return account, kwargs

    # The checks --------------------------------------------------------------------------------

    @pytest.mark.django_db
    def test_anonymous_is_sent_to_sign_in(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        response = self._request(csrf_client(), route, kwargs, company, account)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    @pytest.mark.django_db
    def test_password_only_is_sent_to_second_factor(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company).user
        response = self._request(password_only_client(user, client=csrf_client()), route, kwargs, company, account)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:verify"))

    @applies_to(lambda route: route.permission is not None and route.tenant)
    @pytest.mark.django_db
    def test_member_without_permission_is_refused(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company, permissions=ALL_PERMISSIONS - route.required()).user
        response = self._request(signed_in(user), route, kwargs, company, account)
        assert response.status_code in (403, 404)

    @applies_to(lambda route: route.make_object is not None)
    @pytest.mark.django_db
    def test_object_of_another_company_is_404(self, route):
        company, other = CompanyFactory(), CompanyFactory()
        other_account, other_kwargs = self._setup(route, other)
        user = make_member(company).user
        response = self._request(signed_in(user), route, other_kwargs, other, other_account)
        assert response.status_code == 404

    @applies_to(lambda route: route.make_object is not None and route.account_scoped)
    @pytest.mark.django_db
    def test_object_outside_account_scope_is_404(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        allowed = BillingAccountFactory(company=company)
        user = make_member(company, accounts=[allowed]).user
        response = self._request(signed_in(user), route, kwargs, company, account)
        assert response.status_code == 404

    @applies_to(lambda route: route.tenant)
    @pytest.mark.django_db
    def test_login_without_company_is_refused(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = UserFactory()
        response = self._request(signed_in(user), route, kwargs, company, account)
        assert response.status_code in (403, 404)

    @pytest.mark.django_db
    def test_member_with_permission_gets_the_page(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company, permissions=route.required()).user
        client = signed_in(user)
        if route.step_up:
            stepped_up(client)
        response = self._request(client, route, kwargs, company, account)
        assert response.status_code in route.ok_status
        case = RouteCase(route, company, account, kwargs, user=user, client=client, response=response)
        if 300 <= response.status_code < 400:
            assert route.expect_location is not None, (
                f"{route}: the allowed outcome is a redirect; declare expect_location (where it must lead)"
            )
            location = route.expect_location
            expected = location(case) if callable(location) else reverse(location)
            assert urlsplit(response["Location"]).path == urlsplit(expected).path, (response["Location"], expected)
        if route.changes_state:
            assert route.effect is not None, f"{route}: a state-changing route declares effect (what it did)"
        if route.effect is not None:
            assert route.effect(case), f"{route}: answered {response.status_code}, but its effect did not happen"

    @applies_to(lambda route: route.kind in ("list", "export"))
    @pytest.mark.django_db
    def test_list_shows_own_rows_only(self, route):
        """The own row is listed; another company's row and one outside the login's scope are not."""
        company, other = CompanyFactory(), CompanyFactory()
        account, kwargs = self._setup(route, company)
        own = route.make_row(company, account)
        foreign = (route.make_foreign_row or route.make_row)(other, BillingAccountFactory(company=other))
        absent = {"another company's row": foreign}
        scope = None
        if route.account_scoped:
            outside = BillingAccountFactory(company=company)
            absent["a row outside the login's account scope"] = (
                (route.make_out_of_scope_row or route.make_row)(company, outside)
            )
            scope = [account]
        assert own and len({own, *absent.values()}) == len(absent) + 1, "make_row must return a unique marker"
        user = make_member(company, permissions=route.required(), accounts=scope).user
        client = signed_in(user)
        variants = {"page": {}, "htmx fragment": {"HTTP_HX_REQUEST": "true"}} if route.kind == "list" else {"file": {}}
        for variant, headers in variants.items():
            response = self._request(client, route, kwargs, company, account, **headers)
            assert response.status_code == 200, (variant, response.status_code)
            text = response_text(response)
            assert own in text, f"{route} ({variant}): the login's own row is missing"
            for what, value in absent.items():
                assert value not in text, f"{route} ({variant}) shows {what}"

    @applies_to(lambda route: route.changes_state)
    @pytest.mark.django_db
    def test_post_without_csrf_token_is_refused(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company, permissions=route.required()).user
        response = self._request(signed_in(user), route, kwargs, company, account, csrf_token=False)
        assert response.status_code == 403, f"{route} accepted a {route.method.upper()} without the CSRF token"
