"""Issue 8, "Forms › The wizard" and "Editing a colleague": what a new user tripped over."""

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, MembershipInvitation, User
from accounts.permissions import ROLE_PRESETS, Role
from accounts.services.profile import email_change_confirm, mobile_change_confirm
from accounts.services.users import membership_invitation_take_up
from selfcare.outbox.models import OutboxMessage
from tests.accounts.test_users_views import CREATE, DETAILS, run_wizard, start, step
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import BillingAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER, full_name="Bo Chef")


@pytest.fixture
def boss_client(boss):
    return stepped_up(verified_client(boss.user))


def edit_url(membership):
    return reverse("accounts:user_edit", args=[membership.pk])


# The wizard --------------------------------------------------------------------------------------

def test_the_step_indicator_is_an_ordered_list_marking_the_current_step(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    html = boss_client.get(CREATE, {"wizard": wizard, "step": "accounts"}).content.decode()
    steps = re.search(r'<ol class="wizard-steps">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li\b[^>]*>", steps)
    assert len(items) == 3
    assert ['aria-current="step"' in item for item in items] == [False, True, False]
    assert "wizard-steps__item--done" in items[0] and "wizard-steps__item--current" in items[1]


def test_function_groups_are_styled_and_next_and_cancel_stand_apart(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    html = boss_client.get(CREATE, {"wizard": wizard, "step": "functions"}).content.decode()
    functions = html[html.index('class="card function-groups"'):]
    inner = re.findall(r"<fieldset[^>]*>", functions)[1:]
    assert len(inner) >= 3 and all(tag == '<fieldset class="function-group">' for tag in inner)
    actions = re.search(r'<div class="wizard-actions">(.*?)</div>', html, re.S).group(1)
    assert 'class="wizard-actions__cancel"' in actions
    css = open("static/css/portal.css", encoding="utf-8").read()
    wizard_css = css[css.index("/* wizard"):]
    for selector in (".wizard-steps__item--current", ".function-group {", ".wizard-actions__cancel"):
        assert selector in wizard_css


def test_only_the_chosen_account_numbers_with_none_ticked_is_refused(boss_client, company):
    BillingAccountFactory(company=company)
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    response = step(boss_client, wizard, "accounts", {"scope": "selected"})
    assert response.status_code == 400
    assert "Tick at least one account number" in str(response.context["form"].errors)


def test_no_account_numbers_is_an_explicit_choice(boss_client, company):
    BillingAccountFactory(company=company)
    _wizard, response = run_wizard(boss_client, scope={"scope": "none"})
    assert response.status_code == 302
    invitation = MembershipInvitation.objects.get(email=DETAILS["email"])
    assert not invitation.all_accounts and not invitation.accounts.exists()
    # Activated (which accepts the invitation), the colleague's page shows the same choice.
    [membership] = membership_invitation_take_up(user=User.objects.get(email=DETAILS["email"]))
    assert not membership.all_accounts and not membership.accounts.exists()
    page = boss_client.get(edit_url(membership))
    assert page.context["scope_form"].initial["scope"] == "none"
    assert 'value="none" checked' in page.content.decode() or re.search(
        r'value="none"[^>]*checked', page.content.decode())


def test_no_account_numbers_takes_them_away_on_the_edit_page(boss_client, company):
    account = BillingAccountFactory(company=company)
    target = make_member(company, Role.READ_ONLY, accounts=[account])
    response = boss_client.post(edit_url(target), {"role": Role.READ_ONLY, "scope": "none", "action": "save",
                                                   "permissions": sorted(ROLE_PRESETS[Role.READ_ONLY])})
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.all_accounts and not target.accounts.exists()


def test_the_danish_account_step_names_the_company_without_a_wrong_genitive(boss, company):
    company.name = "Nordlys Holding A/S"
    company.save()
    client = stepped_up(verified_client(boss.user))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "da"
    User.objects.filter(pk=boss.user.pk).update(language="da")
    wizard = client.get(CREATE).context["wizard_id"]
    client.post(CREATE, {"wizard": wizard, "step": "details", **DETAILS})
    html = client.get(CREATE, {"wizard": wizard, "step": "accounts"}).content.decode()
    assert "A/Ss" not in html
    assert "Kontonumre hos Nordlys Holding A/S" in html
    assert "Ingen kontonumre" in html


# The role picker keeping hand-ticked functions (static/js/wizard.js) is proven in a real browser:
# tests/e2e/test_consent_journey.py moves through the roles with the arrow keys.


# Your own page -----------------------------------------------------------------------------------

def test_your_own_page_says_once_that_you_cannot_change_it(boss_client, boss, company):
    make_member(company, Role.SUPERUSER)
    html = boss_client.get(edit_url(boss)).content.decode()
    assert html.count("You cannot change, deactivate or remove your own login.") == 1


# Editing a colleague -----------------------------------------------------------------------------

@pytest.fixture
def colleague(company):
    return make_member(company, Role.READ_ONLY, full_name="Cilla Kollega", email="cilla@example.com",
                       mobile="+4520202020")


def details(**changes):
    return {"full_name": "Cilla Kollega", "email": "cilla@example.com", "mobile": "+45 20 20 20 20", **changes}


def test_an_admin_changes_a_colleagues_name_at_once(boss_client, boss, colleague, company):
    page = boss_client.get(edit_url(colleague)).content.decode()
    assert 'action="' + reverse("accounts:user_details", args=[colleague.pk]) in page
    response = boss_client.post(reverse("accounts:user_details", args=[colleague.pk]),
                                details(full_name="Cilla  Nyt Navn"))
    assert response.status_code == 302 and response["Location"] == edit_url(colleague)
    assert User.objects.get(pk=colleague.user.pk).full_name == "Cilla Nyt Navn"
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_CHANGED, target_user=colleague.user)
    assert event.actor == boss.user and event.company == company
    assert event.changes == {"full_name": ["Cilla Kollega", "Cilla Nyt Navn"]}


def test_a_new_e_mail_waits_for_the_colleague_to_confirm_it(boss_client, colleague):
    response = boss_client.post(reverse("accounts:user_details", args=[colleague.pk]),
                                details(email="Cilla.Ny@Example.com"))
    assert response.status_code == 302
    assert User.objects.get(pk=colleague.user.pk).email == "cilla@example.com"  # not yet
    mail = OutboxMessage.objects.get(recipient="cilla.ny@example.com")
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", mail.body).group(1)
    # The colleague confirms while signed in, as on the own profile.
    colleague_client = verified_client(colleague.user)
    assert "cilla.ny@example.com" in colleague_client.get(reverse("accounts:profile_email_confirm")).content.decode()
    email_change_confirm(user=colleague.user, code=code)
    assert User.objects.get(pk=colleague.user.pk).email == "cilla.ny@example.com"


def test_a_new_mobile_waits_for_the_code_sent_to_it(boss_client, colleague):
    boss_client.post(reverse("accounts:user_details", args=[colleague.pk]), details(mobile="+45 60 60 60 60"))
    assert User.objects.get(pk=colleague.user.pk).mobile == "+4520202020"
    sms = OutboxMessage.objects.get(recipient="+4560606060")
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    mobile_change_confirm(user=colleague.user, code=code)
    assert User.objects.get(pk=colleague.user.pk).mobile == "+4560606060"


def test_an_address_taken_by_another_login_is_not_revealed(boss_client, colleague, other_company):
    make_member(other_company, Role.READ_ONLY, email="taken@example.com")
    response = boss_client.post(reverse("accounts:user_details", args=[colleague.pk]),
                                details(email="taken@example.com"))
    assert response.status_code == 302
    page = boss_client.get(edit_url(colleague))
    texts = " ".join(str(message) for message in page.context["messages"])
    assert "already uses" not in texts and "A code has been sent to taken@example.com" in texts
    assert User.objects.get(pk=colleague.user.pk).email == "cilla@example.com"


def test_a_login_of_another_company_too_changes_its_details_only_itself(boss_client, colleague, other_company):
    Membership.objects.create(user=colleague.user, company=other_company)
    html = boss_client.get(edit_url(colleague)).content.decode()
    assert "only the login itself can change its name, e-mail and mobile" in html
    assert 'action="' + reverse("accounts:user_details", args=[colleague.pk]) not in html
    response = boss_client.post(reverse("accounts:user_details", args=[colleague.pk]),
                                details(full_name="Overtaget", email="thief@example.com"))
    assert response.status_code == 302
    user = User.objects.get(pk=colleague.user.pk)
    assert user.full_name == "Cilla Kollega" and user.email == "cilla@example.com"
    assert not OutboxMessage.objects.filter(recipient="thief@example.com").exists()


def test_bad_details_are_refused_with_the_field_marked(boss_client, colleague):
    response = boss_client.post(reverse("accounts:user_details", args=[colleague.pk]),
                                details(email="not-an-address", mobile="12"))
    assert response.status_code == 400
    form = response.context["details_form"]
    assert "email" in form.errors and "mobile" in form.errors
    assert User.objects.get(pk=colleague.user.pk).email == "cilla@example.com"


def test_a_manager_cannot_change_the_details_of_a_login_with_more_access(company, colleague):
    from accounts.permissions import Permission

    manager = make_member(company, permissions={Permission.MANAGE_USERS})
    superuser = make_member(company, Role.SUPERUSER, email="super@example.com")
    client = stepped_up(verified_client(manager.user))
    response = client.post(reverse("accounts:user_details", args=[superuser.pk]),
                           details(email="mine@example.com"))
    assert response.status_code == 302
    assert not OutboxMessage.objects.filter(recipient="mine@example.com").exists()


def test_another_companys_login_is_404(boss_client, other_company):
    foreign = make_member(other_company, Role.READ_ONLY)
    response = boss_client.post(reverse("accounts:user_details", args=[foreign.pk]), details())
    assert response.status_code == 404
