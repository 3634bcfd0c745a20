"""Issue 6, item 8: sensitive changes need a recent step-up ("confirm it is you").

For each change: a session that is signed in with both factors but has not confirmed recently
changes nothing and is sent to the step-up page, with a ``next`` that brings it back where it was.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Company, Membership, MembershipInvitation, SMSDevice, User
from accounts.permissions import ROLE_PRESETS, Role
from accounts.views.profile import REAUTH_VALID_SECONDS
from accounts.views_base import PortalViewMixin
from selfcare.outbox.models import OutboxMessage
from tests.accounts.test_users_views import CREATE, DETAILS
from tests.conftest import PASSWORD, make_member, stepped_up, verified_client

pytestmark = pytest.mark.django_db

REAUTH = reverse("accounts:reauth")


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER, full_name="Bo Chef")


@pytest.fixture
def fresh_client(boss):
    """Signed in with password and code, but no step-up yet (or it has run out)."""
    return verified_client(boss.user)


@pytest.fixture
def colleague(company):
    return make_member(company, Role.READ_ONLY, full_name="Cilla Kollega", mobile="+4520202020")


def sent_to_step_up(response) -> str:
    """The ``next`` the step-up page was given; fails unless the response is that redirect."""
    assert response.status_code == 302, response.status_code
    url = urlsplit(response["Location"])
    assert url.path == REAUTH, response["Location"]
    return parse_qs(url.query)["next"][0]


def snapshot():
    return {
        "memberships": sorted(Membership.objects.values_list("pk", "role", "is_active", "all_accounts")),
        "users": sorted(User.objects.values_list("pk", "full_name", "email", "mobile", "is_active")),
        "companies": sorted(Company.objects.values_list("pk", "street", "delivery_street", "status_emails")),
        "audit": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def test_opening_the_wizard_asks_first_and_comes_back_to_it(fresh_client):
    before = snapshot()
    assert sent_to_step_up(fresh_client.get(CREATE)) == CREATE
    assert snapshot() == before
    assert stepped_up(fresh_client).get(CREATE).status_code == 200


def test_create_after_the_step_up_ran_out_returns_to_the_last_step_with_the_ticks(fresh_client, monkeypatch):
    client = stepped_up(fresh_client)
    wizard = client.get(CREATE).context["wizard_id"]
    client.post(CREATE, {"wizard": wizard, "step": "details", **DETAILS})
    client.post(CREATE, {"wizard": wizard, "step": "accounts", "scope": "all"})
    session = client.session
    session["reauth_at"] -= REAUTH_VALID_SECONDS + 1
    session.save()
    before = snapshot()
    ticks = sorted(ROLE_PRESETS[Role.APPROVER])
    response = client.post(CREATE, {"wizard": wizard, "step": "functions", "role": Role.APPROVER,
                                    "permissions": ticks, "action": "create"})
    back = sent_to_step_up(response)
    assert back == f"{CREATE}?wizard={wizard}&step=functions"
    assert snapshot() == before and not User.objects.filter(email=DETAILS["email"]).exists()
    page = stepped_up(client).get(back)
    assert page.status_code == 200 and sorted(page.context["form"].initial["permissions"]) == ticks
    response = client.post(CREATE, {"wizard": wizard, "step": "functions", "role": Role.APPROVER,
                                    "permissions": ticks, "action": "create"})
    assert response.status_code == 302
    assert MembershipInvitation.objects.get(email=DETAILS["email"]).role == Role.APPROVER


@pytest.mark.parametrize("name", ["accounts:user_edit", "accounts:user_details", "accounts:user_deactivate",
                                  "accounts:user_remove"])
def test_each_change_to_a_colleague_asks_first_and_changes_nothing(fresh_client, colleague, name):
    data = {
        "accounts:user_edit": {"role": Role.ORDERER, "permissions": sorted(ROLE_PRESETS[Role.ORDERER]),
                               "scope": "all", "action": "save"},
        "accounts:user_details": {"full_name": "Ny Navn", "email": "ny@example.com", "mobile": "+4560606060"},
    }.get(name, {})
    before = snapshot()
    response = fresh_client.post(reverse(name, args=[colleague.pk]), data)
    assert sent_to_step_up(response) == reverse("accounts:user_edit", args=[colleague.pk])
    assert snapshot() == before
    # The same request goes through once the step-up is recent.
    response = stepped_up(fresh_client).post(reverse(name, args=[colleague.pk]), data)
    assert response.status_code == 302 and not response["Location"].startswith(REAUTH)
    assert snapshot() != before


def test_reactivating_asks_first(fresh_client, colleague):
    Membership.objects.filter(pk=colleague.pk).update(is_active=False)
    response = fresh_client.post(reverse("accounts:user_reactivate", args=[colleague.pk]))
    assert sent_to_step_up(response) == reverse("accounts:user_edit", args=[colleague.pk])
    assert not Membership.objects.get(pk=colleague.pk).is_active


def test_another_companys_login_is_still_a_404_not_a_step_up(fresh_client, other_company):
    foreign = make_member(other_company, Role.READ_ONLY)
    for name in ("accounts:user_edit", "accounts:user_deactivate", "accounts:user_remove", "accounts:user_details"):
        assert fresh_client.post(reverse(name, args=[foreign.pk])).status_code == 404, name


def test_editing_the_company_profile_asks_first(fresh_client, company):
    url = reverse("accounts:company_profile")
    before = snapshot()
    response = fresh_client.post(url, {"street": "Ny Vej 2", "postal_code": "8000", "city": "Aarhus C"})
    assert sent_to_step_up(response) == url
    assert snapshot() == before
    assert fresh_client.get(url).status_code == 200  # reading it needs no step-up


def test_the_real_step_up_brings_the_user_back(fresh_client, boss):
    """Through the step-up page itself: password and SMS code, then back to the wizard."""
    back = sent_to_step_up(fresh_client.get(CREATE))
    fresh_client.post(reverse("accounts:reauth_send_sms"), {"next": back})
    code = SMSDevice.objects.get(user=boss.user).token
    response = fresh_client.post(REAUTH, {"password": PASSWORD, "token": code, "method": "sms", "next": back})
    assert response.status_code == 302 and response["Location"] == CREATE
    assert fresh_client.get(CREATE).status_code == 200


def test_the_step_up_is_declared_on_the_view():
    """One declaration (PortalViewMixin.step_up) that later apps reuse, e.g. approval chains."""
    from accounts.views import profile, users

    assert PortalViewMixin.step_up == ()
    for view in (users.UserEditView, users.UserDetailsView, users.UserDeactivateView, users.UserReactivateView,
                 users.UserRemoveView, profile.CompanyProfileView):
        assert view.step_up == ("POST",), view
    assert users.UserCreateView.step_up == ("GET",)
