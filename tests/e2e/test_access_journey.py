"""Getting access, end to end in a real browser (issue 3).

A company applies for access; operator staff approve it in the back office; the letter in the
company's digital mailbox carries the username and a one-time activation code; the new Superuser
activates (password + SMS code) and signs in; creates a colleague restricted to one account number
through the wizard; the colleague activates from the invitation e-mail, read from a real SMTP server
started by the test, and sees only the allowed account's subscriptions.

Every message travels for real: outbox row → Redis → Celery worker → SMS port / digital-mailbox port /
SMTP. axe-core checks the customer-facing pages on the way.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import AccessApplication, Company, Membership, MembershipInvitation, User
from selfcare.outbox.models import Channel, DevInboxMessage
from tests.conftest import wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import last_sms_id, sign_in, sms_code
from tests.factories import BillingAccountFactory, StaffUserFactory, SubscriptionFactory

CVR = "25800044"
APPLICANT_EMAIL = "karen.holm@vindkraft.example"
APPLICANT_MOBILE = "+4526155511"
SUPERUSER_PASSWORD = "vindmøller blæser hele året"
COLLEAGUE_EMAIL = "jonas.berg@vindkraft.example"
COLLEAGUE_MOBILE = "+4526155522"
COLLEAGUE_PASSWORD = "turbiner og kaffe hver dag"


def fill_by_name(page: Page, name: str, value: str):
    page.locator(f"main [name='{name}']").fill(value)


def submit_main_form(page: Page):
    page.locator("main form.card button[type=submit], main form.form button[type=submit]").first.click()


def apply_for_access(page: Page):
    page.goto(reverse("accounts:login"))
    page.locator(f"main a[href='{reverse('accounts:apply')}']").click()
    expect(page).to_have_url(re.compile(r"/apply/$"))
    assert_accessible(page, label="application form")
    page.locator("main select[name='country']").select_option("DK")
    fill_by_name(page, "registration_number", "12345678")  # wrong check digit first
    fill_by_name(page, "company_name", "Vindkraft Nord ApS")
    fill_by_name(page, "applicant_name", "Karen Holm")
    fill_by_name(page, "email", APPLICANT_EMAIL)
    fill_by_name(page, "mobile", "26 15 55 11")
    submit_main_form(page)
    expect(page.locator("main .errorlist")).to_be_visible()
    assert not AccessApplication.objects.exists()  # nothing written on bad input
    fill_by_name(page, "registration_number", CVR)
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/apply/received/$"))
    assert_accessible(page, label="application received")
    return AccessApplication.objects.get(registration_number=CVR)


def staff_approve(page: Page, staff, application):
    sign_in(page, staff, landing=r"/backoffice/$")  # staff without a company land in the back office
    page.goto(reverse("admin:accounts_accessapplication_changelist"))
    # The application's own page carries Approve and Reject; Approve opens the address step.
    page.locator(f"#result_list a[href*='/accessapplication/{application.pk}/change/']").click()
    expect(page).to_have_url(re.compile(rf"/accessapplication/{application.pk}/change/$"))
    page.get_by_role("link", name="Approve…").click()
    expect(page).to_have_url(re.compile(rf"/accessapplication/{application.pk}/approve/$"))
    page.locator("input[name='street']").fill("Havnevej 7")
    page.locator("input[name='postal_code']").fill("9000")
    page.locator("input[name='city']").fill("Aalborg")
    page.locator("input[type=submit][value]").last.click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.context.close()


def letter_for(registration_number: str) -> str:
    letter = wait_for(lambda: DevInboxMessage.objects.filter(
        channel=Channel.DIGITAL_MAIL, recipient=registration_number).first())
    return letter.body


def activate_from_letter(page: Page, letter: str):
    username = re.search(r"[\w.+-]+@[\w.-]+\.example", letter).group(0)
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", letter).group(1)
    assert username == APPLICANT_EMAIL
    page.goto(reverse("accounts:activate"))
    assert_accessible(page, label="activation code page")
    fill_by_name(page, "email", username)
    fill_by_name(page, "code", code.lower())  # typed by hand: case does not matter
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/activate/password/$"))
    fill_by_name(page, "new_password1", SUPERUSER_PASSWORD)
    fill_by_name(page, "new_password2", SUPERUSER_PASSWORD)
    before = last_sms_id()
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/activate/second-factor/$"))
    assert_accessible(page, label="activation second factor")
    fill_by_name(page, "token", sms_code(APPLICANT_MOBILE, after_id=before))
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/overview/$"))
    return code


@pytest.mark.django_db(transaction=True)
def test_apply_approve_activate_invite_and_restricted_colleague(new_page, celery_worker, smtp_server, browser_problems):
    staff = StaffUserFactory(email="olivia@operator.example", full_name="Olivia Operator")

    application = apply_for_access(new_page())
    assert smtp_server.to(APPLICANT_EMAIL) or wait_for(lambda: smtp_server.to(APPLICANT_EMAIL))  # receipt

    staff_approve(new_page(), staff, application)
    company = Company.objects.get(registration_number=CVR)
    superuser = User.objects.get(email=APPLICANT_EMAIL)
    assert Membership.objects.get(user=superuser, company=company).role == "superuser"

    # The operator's systems bring the company's accounts and subscriptions.
    north, south = BillingAccountFactory(company=company, number="8800001"), BillingAccountFactory(company=company, number="8800002")
    SubscriptionFactory(account=north, employee_name="Nora Nordmark")
    SubscriptionFactory(account=south, employee_name="Sune Sydhavn")

    page = new_page()
    code = activate_from_letter(page, letter_for(CVR))
    assert_accessible(page, label="overview of the new Superuser")
    sign_out_and_in_again(page, APPLICANT_EMAIL, SUPERUSER_PASSWORD, APPLICANT_MOBILE)

    # The letter's code works once: the login is active, so the page says so and offers nothing.
    again = new_page()
    again.goto(reverse("accounts:activate"))
    fill_by_name(again, "email", APPLICANT_EMAIL)
    fill_by_name(again, "code", code)
    submit_main_form(again)
    expect(again).not_to_have_url(re.compile(r"/activate/password/$"))
    expect(again.get_by_text("This login has already been activated.")).to_be_visible()
    expect(again.locator("main input[name='new_password1'], main input[name='code']")).to_have_count(0)
    browser_problems.allow("status of 410")  # the used code's page is Gone

    create_restricted_colleague(page, account_number=north.number)
    browser_problems.allow("status of 400")  # the wizard answered the bad e-mail with 400
    colleague_activates_and_sees_only(new_page(), smtp_server, allowed="Nora Nordmark", hidden="Sune Sydhavn")
    browser_problems.allow("status of 410")  # the used invitation link is Gone


def submit_and_confirm_sms_code(page: Page, mobile: str, code_page: str):
    """Submit the form, land on the code page, type the code the SMS port received, reach the overview."""
    before = last_sms_id()
    submit_main_form(page)
    expect(page).to_have_url(re.compile(code_page))
    fill_by_name(page, "token", sms_code(mobile, after_id=before))
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/overview/$"))


def sign_out_and_in_again(page: Page, email: str, password: str, mobile: str):
    """The activated login signs in like any other: password, then a code by SMS."""
    page.locator("header details.language-menu > summary").click()  # the cogwheel menu holds "sign out"
    page.locator("header form[action$='/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    fill_by_name(page, "username", email)
    fill_by_name(page, "password", password)
    submit_and_confirm_sms_code(page, mobile, r"/login/verify/")


def confirm_it_is_you(page: Page, password: str, mobile: str):
    """The step-up before a sensitive change: a fresh SMS code and the password, then back where it was."""
    expect(page).to_have_url(re.compile(r"/profile/confirm-it-is-you/"))
    before = last_sms_id()
    page.locator("main form[action$='/send-sms/'] button").click()
    expect(page).to_have_url(re.compile(r"/profile/confirm-it-is-you/"))
    fill_by_name(page, "password", password)
    fill_by_name(page, "token", sms_code(mobile, after_id=before))
    page.locator("main form[action$='/confirm-it-is-you/'] button[type=submit]").click()


def wizard_next(page: Page, step: str):
    page.locator("main form button.button:not([name])").click()
    expect(page.locator("main input[name='step']")).to_have_value(step)


def create_restricted_colleague(page: Page, *, account_number: str):
    """The Superuser's wizard: details → account numbers (one) → functions (Read-only) → create."""
    page.goto(reverse("accounts:users"))
    assert_accessible(page, label="users page")
    page.locator(f"main a[href='{reverse('accounts:user_create')}']").first.click()
    confirm_it_is_you(page, SUPERUSER_PASSWORD, APPLICANT_MOBILE)  # creating a login needs the step-up
    expect(page.locator("main input[name='step']")).to_have_value("details")
    assert_accessible(page, label="wizard step 1")
    fill_by_name(page, "full_name", "Jonas Berg")
    fill_by_name(page, "email", "not-an-address")
    fill_by_name(page, "mobile", COLLEAGUE_MOBILE)
    page.locator("main form button.button:not([name])").click()
    expect(page.locator("main .errorlist")).to_be_visible()  # step 1 is checked before step 2
    fill_by_name(page, "email", COLLEAGUE_EMAIL)
    wizard_next(page, "accounts")  # one company: the company step is skipped
    assert_accessible(page, label="wizard account numbers step")
    page.locator("main input[name='scope'][value='selected']").check()
    page.locator("main label", has_text=account_number).click()
    wizard_next(page, "functions")
    assert_accessible(page, label="wizard functions step")
    page.locator("main input[name='role'][value='read_only']").check()  # wizard.js ticks the role's functions
    page.locator("main button[name='action'][value='create']").click()
    expect(page).to_have_url(re.compile(r"/users/"))
    assert not User.objects.get(email=COLLEAGUE_EMAIL).has_usable_password()
    # Invited, as every address is: the access offered becomes the membership when the login is activated.
    offer = MembershipInvitation.objects.get(email=COLLEAGUE_EMAIL)
    assert offer.role == "read_only" and not offer.all_accounts
    assert [account.number for account in offer.accounts.all()] == [account_number]


def colleague_activates_and_sees_only(page: Page, smtp_server, *, allowed: str, hidden: str):
    """The invitation e-mail, read from the SMTP server, leads to activation and a restricted view."""
    invitation = wait_for(lambda: smtp_server.to(COLLEAGUE_EMAIL))[-1]
    link = re.search(r"https?://[^/\s]+(/activate/invitation/[^\s]+/)", smtp_server.body(invitation)).group(1)
    page.goto(link)
    assert_accessible(page, label="invitation landing page")
    fill_by_name(page, "new_password1", COLLEAGUE_PASSWORD)
    fill_by_name(page, "new_password2", COLLEAGUE_PASSWORD)
    submit_and_confirm_sms_code(page, COLLEAGUE_MOBILE, r"/activate/second-factor/$")

    page.goto(reverse("subscriptions:list"))
    expect(page.get_by_role("link", name=allowed)).to_be_visible()
    expect(page.get_by_text(hidden)).to_have_count(0)
    assert_accessible(page, label="restricted colleague's subscriptions")
    from subscriptions.models import Subscription

    foreign = Subscription.objects.get(employee_name=hidden)
    response = page.request.get(reverse("subscriptions:detail", args=[foreign.pk]))
    assert response.status == 404  # outside the account scope: as if it did not exist
    # The invitation link works once.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.locator("main input[name='new_password1']")).to_have_count(0)
