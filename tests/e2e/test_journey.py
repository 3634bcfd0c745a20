"""The first things a customer administrator does, in a real browser.

Sign in with password and an SMS code (the code really travels: outbox row → Redis → Celery worker →
SMS port's store), look at the overview, the subscriptions, switch company, switch language, sign out.
Every page on the way is checked with axe-core and for console errors and CSP violations.

Selectors go by role, label and URL; where text is needed it is English (the logins' language).
"""

import re
import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import SMSDevice
from accounts.permissions import Role
from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import assert_no_horizontal_overflow, assert_reachable
from tests.factories import BillingAccountFactory, CompanyFactory, MembershipFactory, SubscriptionFactory

PASSWORD = "correct horse battery"

HOLDING = "Nordlys Holding A/S"
ENERGI = "Nordlys Energi ApS"
EMPLOYEES = {
    HOLDING: ["Astrid Holm", "Bjørn Kjær"],
    ENERGI: ["Carla Dahl", "Dorthe Lund", "Emil Vestergaard"],
}


@pytest.fixture
def group_login(transactional_db):
    """One login, Superuser of two companies of a group, each with its own employees' subscriptions."""
    companies = {name: CompanyFactory(name=name) for name in (HOLDING, ENERGI)}
    for name, company in companies.items():
        account = BillingAccountFactory(company=company)
        for employee in EMPLOYEES[name]:
            SubscriptionFactory(account=account, employee_name=employee)
    membership = make_member(
        companies[HOLDING], Role.SUPERUSER, email="mette.berg@nordlys.example", full_name="Mette Berg",
        mobile="+4521436587",
    )
    MembershipFactory(user=membership.user, company=companies[ENERGI], role=Role.SUPERUSER)
    return membership.user


# --- helpers ---------------------------------------------------------------------------------------


def sms_code(mobile: str, *, after_id: int = 0) -> str:
    """The code from the newest SMS the SMS port stored for this mobile (delivered by the worker)."""
    message = wait_for(
        lambda: DevInboxMessage.objects.filter(channel=Channel.SMS, recipient=mobile, pk__gt=after_id)
        .order_by("-pk")
        .first()
    )
    # It went through the outbox: the row is marked sent by the worker that delivered it.
    assert OutboxMessage.objects.filter(
        channel=Channel.SMS, recipient=mobile, status=OutboxMessage.Status.SENT
    ).exists()
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, f"no 6-digit code in the SMS {message.body!r}"
    return match.group(1)


def last_sms_id() -> int:
    last = DevInboxMessage.objects.order_by("-pk").first()
    return last.pk if last else 0


def enter_password(page: Page, user, *, check_accessibility=False):
    page.goto(reverse("accounts:login"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if check_accessibility:
        assert_accessible(page, label="sign-in page")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/login/verify/"))


def enter_code(page: Page, code: str, *, english=True):
    if english:
        page.get_by_label("Code", exact=True).fill(code)
        page.get_by_role("button", name="Sign in", exact=True).click()
    else:  # the page is in the login's own language
        form = page.locator("main form:has(input[name='token'])")
        form.locator("input[name='token']").fill(code)
        form.locator("button[type=submit]").click()


def sign_in(page: Page, user, *, check_accessibility=False, english=True, landing=r"/overview/$"):
    """Password, then the SMS code read from the SMS port's store; ends on the overview."""
    before = last_sms_id()
    enter_password(page, user, check_accessibility=check_accessibility)
    if check_accessibility:
        assert_accessible(page, label="second-factor page")
    enter_code(page, sms_code(user.mobile, after_id=before), english=english)
    expect(page).to_have_url(re.compile(landing))


def main_menu(page: Page):
    return page.locator("header nav")  # the top menu (its accessible name is translated)


def company_switcher(page: Page):
    return page.locator("header form[action$='/company/switch/']")


def settings_menu_toggle(page: Page):
    """The cogwheel (its accessible name is translated, so found by structure)."""
    return page.locator("header details:has(button[name='language']) > summary")


def choose_language(page: Page, endonym: str):
    settings_menu_toggle(page).click()
    page.get_by_role("button", name=endonym, exact=True).click()


def html_lang(page: Page) -> str:
    return page.evaluate("() => document.documentElement.lang")


def employee_links(page: Page):
    return page.locator("table tbody").get_by_role("link")  # the column headings are sort links


def assert_shows_employees_of(page: Page, company: str):
    for name in EMPLOYEES[company]:
        expect(page.get_by_role("table").get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(employee_links(page)).to_have_count(len(EMPLOYEES[company]))
    for other, names in EMPLOYEES.items():
        if other != company:
            for name in names:
                expect(page.get_by_text(name)).to_have_count(0)


# --- tests -----------------------------------------------------------------------------------------


def test_sign_in_switch_company_and_language_then_sign_out(
    page, new_page, group_login, celery_worker, browser_problems
):
    user = group_login
    # The switcher lists the companies by name; the first of them is active after sign-in.
    first, second = sorted(EMPLOYEES)  # "Nordlys Energi ApS", "Nordlys Holding A/S"

    # Sign-in: e-mail and password, then the SMS code, with axe on both pages.
    sign_in(page, user, check_accessibility=True)
    browser_problems.assert_none()

    # Overview of the first company.
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=first, exact=True)).to_be_visible()
    switcher = company_switcher(page)
    expect(switcher.get_by_label("Company")).to_have_value(str(user.memberships.get(company__name=first).company_id))
    expect(switcher.get_by_role("option")).to_have_text([first, second])
    assert html_lang(page) == "en"
    assert_accessible(page, label="overview")

    # The top menu shows the areas a Superuser has, as links.
    menu = main_menu(page)
    expect(menu.get_by_role("link")).to_have_text(
        ["Overview", "Subscriptions", "Products and orders", "Invoices", "Support", "Groups", "Users"]
    )
    hrefs = menu.get_by_role("link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [
        reverse(name)
        for name in ("overview", "subscriptions:list", "orders:index", "invoices:index", "tickets:index",
                     "groups:index", "accounts:users")
    ]
    expect(menu.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")

    # Keyboard: from the top of the page, Tab reaches the skip link first; Enter moves focus to the main content.
    page.goto(reverse("overview"))
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("href", "#main")
    expect(focused).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # Subscriptions: only the first company's employees.
    menu.get_by_role("link", name="Subscriptions").click()
    expect(page).to_have_url(re.compile(r"/subscriptions/$"))
    expect(menu.get_by_role("link", name="Subscriptions")).to_have_attribute("aria-current", "page")
    assert_shows_employees_of(page, first)
    assert_accessible(page, label="subscriptions")

    # Switch company with the keyboard: choose the other company, Tab to "Switch", press Enter.
    select = company_switcher(page).get_by_label("Company")
    select.focus()
    select.select_option(label=second)
    page.keyboard.press("Tab")
    expect(company_switcher(page).get_by_role("button", name="Switch")).to_be_focused()
    page.keyboard.press("Enter")
    # The same area (the subscriptions list), now of the other company.
    expect(page).to_have_url(re.compile(r"/subscriptions/$"))
    expect(page.get_by_role("status").filter(has_text="You are now working in")).to_contain_text(
        f"You are now working in {second}")
    expect(company_switcher(page).get_by_label("Company")).to_have_value(
        str(user.memberships.get(company__name=second).company_id)
    )
    assert_shows_employees_of(page, second)
    assert_accessible(page, label="subscriptions after switching company")

    # Language with the cogwheel: Danish, then Swedish; the page stays where it was.
    expect(settings_menu_toggle(page)).to_have_accessible_name("Settings and language")
    choose_language(page, "Dansk")
    expect(page).to_have_url(re.compile(r"/subscriptions/$"))
    expect(page.locator("html")).to_have_attribute("lang", "da")
    user.refresh_from_db()
    assert user.language == "da"

    choose_language(page, "Svenska")
    expect(page).to_have_url(re.compile(r"/subscriptions/$"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    # It stays on another page, and is remembered on the login itself, not just in this browser.
    main_menu(page).locator(f"a[href='{reverse('overview')}']").click()
    expect(page).to_have_url(re.compile(r"/overview/$"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    user.refresh_from_db()
    assert user.language == "sv"
    # Still the company chosen before the language change.
    expect(page.get_by_role("heading", name=second, exact=True)).to_be_visible()
    assert_accessible(page, label="overview in Swedish")

    # Sign out (from the cogwheel menu): back on the sign-in page, and the portal is closed again.
    settings_menu_toggle(page).click()
    page.locator(f"header form[action='{reverse('accounts:logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")  # in the login's language
    expect(page.locator("input[name='password']")).to_be_visible()
    page.goto(reverse("overview"))
    expect(page).to_have_url(re.compile(r"/login/\?next=(/|%2F)overview(/|%2F)$"))
    expect(page.locator("input[name='password']")).to_be_visible()

    # The language belongs to the login: another browser (no language cookie, English Accept-Language)
    # shows the sign-in page in English and, once signed in, the portal in Swedish.
    other_browser = new_page()
    other_browser.goto(reverse("accounts:login"))
    expect(other_browser.locator("html")).to_have_attribute("lang", "en")
    sign_in(other_browser, user, english=False)
    expect(other_browser.locator("html")).to_have_attribute("lang", "sv")

    browser_problems.assert_none()


def test_phone_sized_sign_in_shows_menu_and_overview_without_sideways_scrolling(
    phone_page, group_login, celery_worker, browser_problems
):
    page = phone_page
    user = group_login

    page.goto(reverse("accounts:login"))
    expect(page.get_by_label("E-mail")).to_be_visible()
    assert_no_horizontal_overflow(page, "sign-in page")
    sign_in(page, user, check_accessibility=True)

    first = sorted(EMPLOYEES)[0]
    expect(page.get_by_role("heading", name=first, exact=True)).to_be_visible()
    # On a phone the menu and the company switcher sit behind the "Menu" button.
    menu = main_menu(page)
    expect(menu).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(menu).to_be_visible()
    assert_reachable(menu.get_by_role("link", name="Overview"), "Overview in the main menu")
    expect(menu.get_by_role("link", name="Subscriptions")).to_be_visible()
    expect(company_switcher(page).get_by_label("Company")).to_be_visible()
    assert_no_horizontal_overflow(page, "overview")
    assert_accessible(page, label="overview on a phone")

    menu.get_by_role("link", name="Subscriptions").click()
    expect(page).to_have_url(re.compile(r"/subscriptions/$"))
    assert_shows_employees_of(page, first)
    assert_no_horizontal_overflow(page, "subscriptions")

    browser_problems.assert_none()


def test_wrong_sms_code_shows_an_error_and_stays_on_the_second_factor_page(page, group_login, browser_problems):
    user = group_login
    enter_password(page, user)
    # The code the SMS carries; no worker needed here, the device holds the pending code.
    right = SMSDevice.objects.get(user=user).token
    assert right and len(right) == 6
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    enter_code(page, wrong)
    expect(page).to_have_url(re.compile(r"/login/verify/"))
    code = page.get_by_label("Code", exact=True)
    expect(code).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field--error .errorlist")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The code is wrong")
    # Announced with the field: screen readers read the error when the field has focus.
    expect(code).to_have_accessible_description(re.compile("The code is wrong"))
    assert_accessible(page, label="second-factor page with a wrong code")

    # Not signed in: the portal still asks for the second factor.
    page.goto(reverse("overview"))
    expect(page).to_have_url(re.compile(r"/login/verify/"))

    # The right code still works (after the one-second throttle a failure earns).
    time.sleep(1.2)
    enter_code(page, right)
    expect(page).to_have_url(re.compile(r"/overview/$"))

    browser_problems.assert_none()
