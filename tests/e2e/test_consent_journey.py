"""Consent for access to another company, in a real browser (issue 6, item 1; issue 8, the wizard).

Fjeldvind's Superuser confirms it is them, runs the colleague wizard for an address that already has
a login at Nordlys, moves through the roles with the arrow keys without losing the functions ticked
by hand, and sends the invitation. The users page shows only "invited" and the typed address. The
Nordlys login signs in, finds the invitation on the overview, accepts it, and can switch to Fjeldvind.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Membership, MembershipInvitation
from accounts.permissions import ROLE_PRESETS, Permission, Role
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import PASSWORD, last_sms_id, sign_in, sms_code
from tests.factories import BillingAccountFactory, CompanyFactory


@pytest.fixture
def two_companies(transactional_db):
    nordlys, fjeldvind = CompanyFactory(name="Nordlys Holding A/S"), CompanyFactory(name="Fjeldvind ApS")
    BillingAccountFactory(company=fjeldvind, number="6600001")
    lars = make_member(nordlys, Role.SUPERUSER, email="admin@nordlys.example", full_name="Lars Nielsen",
                       mobile="+4520112233").user
    frida = make_member(fjeldvind, Role.SUPERUSER, email="frida@fjeldvind.example", full_name="Frida Fjeld",
                        mobile="+4520445566").user
    return nordlys, fjeldvind, lars, frida


def confirm_it_is_you(page: Page, user):
    expect(page).to_have_url(re.compile(r"/profile/confirm-it-is-you/"))
    assert_accessible(page, label="confirm it is you")
    before = last_sms_id()
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main input[name='token']").fill(sms_code(user.mobile, after_id=before))
    page.get_by_role("button", name="Continue").click()


def functions_ticked(page: Page) -> set[str]:
    return set(page.locator("main input[name='permissions']:checked").evaluate_all(
        "boxes => boxes.map(box => box.value)"))


@pytest.mark.django_db(transaction=True)
def test_invite_an_existing_login_and_it_accepts(new_page, two_companies, celery_worker):
    nordlys, fjeldvind, lars, frida = two_companies

    page = new_page()
    sign_in(page, frida)
    page.goto(reverse("accounts:users"))
    page.get_by_role("link", name="Create login").click()
    confirm_it_is_you(page, frida)
    expect(page).to_have_url(re.compile(r"/users/new/"))

    steps = page.locator("main ol.wizard-steps > li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_have_attribute("aria-current", "step")
    assert_accessible(page, label="wizard details step")
    page.get_by_label("Name").fill("Lars fra Nordlys")
    page.get_by_label("E-mail").fill("admin@nordlys.example")
    page.get_by_label("Mobile").fill("+45 20 99 88 77")
    page.get_by_role("button", name="Next").click()

    expect(steps.nth(1)).to_have_attribute("aria-current", "step")
    expect(page.get_by_text("Account numbers at Fjeldvind ApS")).to_be_visible()
    page.get_by_label("All account numbers, also new ones").check()
    page.get_by_role("button", name="Next").click()
    expect(steps.nth(2)).to_have_attribute("aria-current", "step")
    assert_accessible(page, label="wizard functions step")

    # Read-only is the starting role; a function ticked by hand survives the arrow keys (Approver, Orderer).
    hand = Permission.VIEW_PUK
    page.locator(f"main input[name='permissions'][value='{hand}']").check()
    page.locator("main input[name='role'][value='read_only']").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert hand in functions_ticked(page)
    expect(page.locator("main [data-role-kept]")).to_contain_text("are kept")
    chosen = page.locator("main input[name='role']:checked").get_attribute("value")
    page.get_by_role("button", name="Use this role").click()  # the explicit confirmation
    assert functions_ticked(page) == set(ROLE_PRESETS[chosen])
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/users/$"))
    expect(page.get_by_text("an invitation has been sent to admin@nordlys.example")).to_be_visible()
    invited = page.locator("main section", has=page.get_by_role("heading", name="Invited, awaiting an answer"))
    expect(invited).to_contain_text("admin@nordlys.example")
    expect(page.locator("main")).not_to_contain_text("Lars Nielsen")
    expect(page.locator("main")).not_to_contain_text("20 11 22 33")
    assert not Membership.objects.filter(user=lars, company=fjeldvind).exists()
    assert_accessible(page, label="users page with an invitation")

    other = new_page()
    sign_in(other, lars)
    other.get_by_role("link", name="See the invitation").click()
    expect(other).to_have_url(re.compile(r"/invitations/$"))
    assert_accessible(other, label="invitations page")
    other.get_by_role("button", name="Accept Fjeldvind ApS").click()
    expect(other.get_by_text("You now have access to Fjeldvind ApS")).to_be_visible()
    membership = Membership.objects.get(user=lars, company=fjeldvind)
    assert membership.role == chosen
    assert MembershipInvitation.objects.get().status == MembershipInvitation.Status.ACCEPTED
    assert Membership.objects.get(user=lars, company=nordlys).role == Role.SUPERUSER
    expect(other.locator("header form[action$='/company/switch/'] option", has_text="Fjeldvind ApS")).to_have_count(1)
