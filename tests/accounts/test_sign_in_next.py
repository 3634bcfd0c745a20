"""Where sign-in, the step-up and company switching land (issue 6 item 7, issue 8 "Sign-in and
company switching"): the page asked for survives both sign-in steps, another site or a non-path
``next`` falls back to the default without losing the step, a sign-in starts in the company used last,
a switch stays in the same area, and signing out says so."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import Membership, SMSDevice
from accounts.permissions import Permission, Role
from accounts.views.profile import REAUTH_SESSION_KEY
from tests.conftest import PASSWORD, english_client, make_member, verified_client
from tests.factories import (
    BillingAccountFactory,
    CompanyFactory,
    MembershipFactory,
    StaffUserFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

NOT_PATHS = ["x", "overview", "https://evil.example/", "//evil.example/", "/\\evil.example", "http:/x",
             "javascript:alert(1)", "/users/\r\nSet-Cookie: a=b"]
# A NUL in any parameter (a `next` too) is refused before any view with a 400: tests/test_nul_characters.py.


def code_of(user):
    return SMSDevice.objects.get(user=user).token


def sign_in_through(client, user, start_url):
    """Open ``start_url`` signed out, follow the sign-in it leads to, and return where it all ends."""
    response = client.get(start_url)
    assert response.status_code == 302
    sign_in_page = client.get(response["Location"], follow=True)
    next_url = sign_in_page.context["next"]
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302
    verify_url = response["Location"]
    page = client.get(verify_url)
    response = client.post(verify_url, {"method": "sms", "token": code_of(user), "next": page.context["next"]})
    assert response.status_code == 302
    return response["Location"]


# Issue 8: the destination survives both steps ------------------------------------------------------

def test_signing_in_through_the_back_office_lands_in_the_back_office(client):
    staff = StaffUserFactory()
    assert sign_in_through(client, staff, reverse("admin:index")) == reverse("admin:index")
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200 and any(t.name == "admin/index.html" for t in page.templates)


def test_a_deep_back_office_page_survives_too(client):
    staff = StaffUserFactory()
    url = reverse("admin:accounts_user_changelist") + "?is_staff__exact=1&o=2"
    assert sign_in_through(client, staff, url) == url


@pytest.mark.parametrize("url", ["/subscriptions/?type=mobile&status=active", "/users/", "/profile/",
                                 "/company/audit-log/?action=sign_in&who=a%26b"])
def test_every_allowed_next_survives_both_steps(client, superuser, url):
    assert sign_in_through(client, superuser, url) == url


def test_a_password_only_session_keeps_the_whole_query_on_the_way_to_the_code(superuser):
    from tests.conftest import password_only_client

    response = password_only_client(superuser).get("/subscriptions/?type=mobile&status=active")
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == ["/subscriptions/?type=mobile&status=active"]


@pytest.mark.parametrize("bad", NOT_PATHS)
def test_a_next_to_another_site_or_not_a_path_is_refused_at_both_steps(client, superuser, bad):
    response = client.post(reverse("accounts:login"), {"username": superuser.email, "password": PASSWORD, "next": bad})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [reverse("overview")]
    response = client.post(reverse("accounts:verify") + "?next=" + "x",
                           {"method": "sms", "token": code_of(superuser), "next": bad})
    assert response.status_code == 302 and response["Location"] == reverse("overview")


def test_the_sign_in_page_of_a_signed_in_login_goes_on_to_the_page_asked_for(superuser):
    client = verified_client(superuser)
    response = client.get(reverse("accounts:login") + "?next=/users/")
    assert response.status_code == 302 and response["Location"] == "/users/"


def test_customers_signed_in_completely_get_a_403_from_the_back_office_not_a_loop(superuser):
    response = verified_client(superuser).get(reverse("admin:index"), follow=True)
    assert response.status_code == 403 and len(response.redirect_chain) <= 2


# Issue 6 item 7: malformed next ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", NOT_PATHS)
def test_verify_of_a_signed_in_login_with_a_bad_next_goes_to_the_overview(superuser, bad):
    response = verified_client(superuser).get(reverse("accounts:verify"), {"next": bad})
    assert response.status_code == 302 and response["Location"] == reverse("overview")


@pytest.mark.parametrize("bad", NOT_PATHS)
def test_language_switch_with_a_bad_next_goes_to_the_overview(client, bad):
    response = client.post(reverse("accounts:language"), {"language": "sv", "next": bad})
    assert response.status_code == 302 and response["Location"] == reverse("overview")


@pytest.mark.parametrize("bad", ["x", "https://evil.example/", "/\\evil.example"])
def test_step_up_with_a_bad_next_keeps_the_confirmation(superuser, bad):
    """A right password and code with ``next=x`` was a 500: the confirmation lost, the code used up."""
    client = verified_client(superuser)
    client.post(reverse("accounts:reauth_send_sms"), {"next": bad})
    response = client.post(reverse("accounts:reauth"),
                           {"password": PASSWORD, "token": code_of(superuser), "method": "sms", "next": bad})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    assert REAUTH_SESSION_KEY in client.session
    assert client.get(reverse("accounts:profile_password")).status_code == 200  # no second step-up


def test_sending_a_new_code_with_a_bad_next_keeps_the_code_step(client, superuser):
    client.post(reverse("accounts:login"), {"username": superuser.email, "password": PASSWORD})
    SMSDevice.objects.filter(user=superuser).update(token=None)  # may ask again at once
    response = client.post(reverse("accounts:send_sms"), {"next": "x"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"method": ["sms"], "next": [reverse("overview")]}


# Issue 8: the company a sign-in starts in --------------------------------------------------------------

@pytest.fixture
def group_login():
    """A login in a group: a parent and two subsidiaries, whose names sort before the parent's."""
    holding = CompanyFactory(name="Nordlys Holding A/S")
    energi = CompanyFactory(name="Nordlys Energi ApS", parent=holding)
    anlaeg = CompanyFactory(name="Nordlys Anlæg ApS", parent=holding)
    membership = make_member(energi, Role.SUPERUSER)
    for company in (holding, anlaeg):
        MembershipFactory(user=membership.user, company=company, role=Role.SUPERUSER)
    return membership.user, holding, energi, anlaeg


def sign_in(user):
    client = english_client()
    client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    client.post(reverse("accounts:verify"), {"method": "sms", "token": code_of(user)})
    client.get(reverse("overview"))
    return client


def test_a_first_sign_in_starts_in_the_top_parent_company_not_the_first_by_name(group_login):
    user, holding, _energi, _anlaeg = group_login
    client = sign_in(user)
    assert client.session[SESSION_COMPANY_KEY] == holding.pk


def test_a_sign_in_starts_in_the_company_used_last(group_login):
    user, _holding, energi, anlaeg = group_login
    client = sign_in(user)
    client.post(reverse("accounts:company_switch"), {"company": anlaeg.pk})
    client.post(reverse("accounts:company_switch"), {"company": energi.pk})
    client.post(reverse("accounts:logout"))
    assert sign_in(user).session[SESSION_COMPANY_KEY] == energi.pk
    # Remembered per login, not per browser.
    other_browser = sign_in(user)
    assert other_browser.session[SESSION_COMPANY_KEY] == energi.pk


def test_a_company_used_last_but_since_left_is_not_started_in(group_login):
    user, holding, energi, _anlaeg = group_login
    client = sign_in(user)
    client.post(reverse("accounts:company_switch"), {"company": energi.pk})
    Membership.objects.filter(user=user, company=energi).update(is_active=False)
    assert sign_in(user).session[SESSION_COMPANY_KEY] == holding.pk


# Issue 8: switching stays in the area ---------------------------------------------------------------------

@pytest.fixture
def two_companies():
    first, second = CompanyFactory(name="Alfa A/S"), CompanyFactory(name="Beta A/S")
    membership = make_member(first, Role.SUPERUSER)
    MembershipFactory(user=membership.user, company=second, role=Role.SUPERUSER)
    return membership.user, first, second


def switch_from(client, page, company, **extra):
    return client.post(reverse("accounts:company_switch"), {"company": company.pk, **extra},
                       HTTP_REFERER=f"http://testserver{page}")


def test_switching_on_the_users_list_stays_on_the_users_list(two_companies):
    user, _first, second = two_companies
    response = switch_from(verified_client(user), "/users/?page=2", second)
    assert response.status_code == 302 and response["Location"] == "/users/"


def test_switching_on_an_object_of_the_old_company_goes_to_that_areas_list(two_companies):
    user, first, second = two_companies
    colleague = make_member(first, Role.READ_ONLY).user
    subscription = SubscriptionFactory(company=first, account=BillingAccountFactory(company=first))
    client = verified_client(user)
    assert switch_from(client, f"/users/{colleague.pk}/", second)["Location"] == reverse("accounts:users")
    assert switch_from(client, f"/subscriptions/{subscription.pk}/", first)["Location"] == reverse("subscriptions:list")
    assert client.get(reverse("subscriptions:list")).status_code == 200


def test_switching_to_a_company_where_the_area_is_not_allowed_goes_to_the_overview(two_companies):
    user, _first, second = two_companies
    Membership.objects.filter(user=user, company=second).update(role=Role.CUSTOM,
                                                                permissions=[Permission.VIEW_SUBSCRIPTIONS])
    response = switch_from(verified_client(user), "/users/", second)
    assert response["Location"] == reverse("overview")


def test_switching_with_a_next_field_uses_it(two_companies):
    user, _first, second = two_companies
    response = switch_from(verified_client(user), "/overview/", second, next="/subscriptions/")
    assert response["Location"] == "/subscriptions/"


@pytest.mark.parametrize("referer", ["", "https://evil.example/users/", "http://testserver/no-such-page/",
                                     "http://testserver.evil.example/users/", "x"])
def test_switching_from_an_unknown_or_foreign_page_goes_to_the_overview(two_companies, referer):
    user, _first, second = two_companies
    response = verified_client(user).post(reverse("accounts:company_switch"), {"company": second.pk},
                                          HTTP_REFERER=referer)
    assert response["Location"] == reverse("overview")


# Issue 8: signing out ---------------------------------------------------------------------------------------

def test_signing_out_ends_on_the_sign_in_page_saying_so(superuser):
    client = verified_client(superuser)
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "You are signed out." in response.content.decode()
    assert client.get("/overview/").status_code == 302


def test_signed_out_message_and_page_are_in_the_language_the_login_used(superuser):
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    client = verified_client(superuser)  # an English browser
    response = client.post(reverse("accounts:logout"), follow=True)
    page = response.content.decode()
    assert "Du er logget ud." in page and '<html lang="da">' in page
