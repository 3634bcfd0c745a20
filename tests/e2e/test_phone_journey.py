"""The portal on a 375 px phone, in a real browser (issue 8, "Phone (375 px)" and "Forms").

A Superuser of two companies signs in, opens the main menu and the cogwheel menu (every item inside
the screen and clickable; the cogwheel closes on an outside click, when the focus leaves it and on
Escape), switches the language, and visits every page of the frame: profile, company profile (a
half-filled delivery address: the error summary takes the focus and links to the marked field), a
colleague's page, the users list, the subscriptions and the audit log, and signs out. No page scrolls
sideways, no table loses a column, and axe finds nothing serious at 375 px nor at 1280 px.

Set E2E_SCREENSHOTS=/some/folder to keep a full-page screenshot of each page.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Membership
from accounts.permissions import Role
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.test_consent_journey import confirm_it_is_you
from tests.e2e.layout import (
    PHONE_375,
    assert_no_horizontal_overflow,
    assert_reachable,
    assert_table_fits,
    screenshot,
)
from tests.factories import MembershipFactory
from tests.e2e.test_journey import HOLDING, group_login, main_menu, settings_menu_toggle, sign_in  # noqa: F401

# Long, unbroken values: what used to push the pages past the screen's edge.
COLLEAGUE_EMAIL = "ann-sofie.vestergaard-christiansen@nordlys-holding-energi.example"
MENU_ITEMS = ["Overview", "Subscriptions", "Products and orders", "Invoices", "Support", "Groups", "Users"]


@pytest.fixture
def phone(new_page):
    return new_page(**PHONE_375)


def check_page(page: Page, label: str, *, table: bool = False):
    """What every page on a phone must satisfy; axe at phone width and again at desktop width."""
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, f"375-{label}")
    assert_no_horizontal_overflow(page, label)
    if table:
        assert_table_fits(page, label)
    assert_accessible(page, label=f"{label} at 375 px")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, f"1280-{label}")
    assert_accessible(page, label=f"{label} at 1280 px")
    assert_no_horizontal_overflow(page, f"{label} at 1280 px")
    page.set_viewport_size(PHONE_375["viewport"])


def open_main_menu(page: Page):
    toggle = page.locator("header button[aria-controls='site-menu']")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(main_menu(page)).to_be_hidden()
    assert_reachable(toggle, "the Menu button")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(main_menu(page)).to_be_visible()
    return toggle


def cogwheel_items(page: Page):
    return page.locator("header .dropdown__panel").locator("a, button")


def test_phone_journey_every_page_fits_and_every_menu_item_is_reachable(
    phone, group_login, celery_worker, browser_problems
):
    page = phone
    user = group_login
    # A colleague in both companies: whichever one the sign-in starts in, the colleague's page is there.
    colleague = make_member(
        Membership.objects.get(user=user, company__name=HOLDING).company, Role.READ_ONLY,
        email=COLLEAGUE_EMAIL, full_name="Ann-Sofie Vestergaard-Christiansen", mobile="+4520112233",
    )
    colleague_pages = {colleague.company_id: colleague.pk}
    for membership in user.memberships.exclude(company=colleague.company):
        colleague_pages[membership.company_id] = MembershipFactory(
            user=colleague.user, company=membership.company, role=Role.READ_ONLY).pk

    page.goto(reverse("accounts:login"))
    assert_no_horizontal_overflow(page, "sign-in page")
    sign_in(page, user)
    check_page(page, "overview")

    # The main menu: one "Menu" button; opened, a vertical list with every item on screen.
    toggle = open_main_menu(page)
    screenshot(page, "375-main-menu-open")
    links = main_menu(page).get_by_role("link")
    expect(links).to_have_text(MENU_ITEMS)
    for index, name in enumerate(MENU_ITEMS):
        assert_reachable(links.nth(index), f"{name} in the main menu")
    switcher = page.locator("header form[action$='/company/switch/']")
    assert_reachable(switcher.get_by_label("Company"), "the company switcher")
    assert_reachable(switcher.get_by_role("button", name="Switch"), "the Switch button")
    assert_no_horizontal_overflow(page, "overview with the menu open")
    # Escape closes it and gives the focus back to the button.
    links.nth(1).focus()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(main_menu(page)).to_be_hidden()
    # Every item can be used: the Users item opens the users list.
    toggle.click()
    links.get_by_text("Users", exact=True).click()
    expect(page).to_have_url(re.compile(r"/users/$"))
    check_page(page, "users list", table=True)

    # The cogwheel: every item on screen; it closes on a click outside, on focus leaving, on Escape.
    cog = settings_menu_toggle(page)
    expect(cog).to_have_attribute("aria-expanded", "false")
    cog.click()
    expect(cog).to_have_attribute("aria-expanded", "true")
    screenshot(page, "375-cogwheel-open")
    items = cogwheel_items(page)
    names = [item.inner_text().strip() for item in items.all()]
    assert names == ["Dansk", "Svenska", "English", "My profile", "Company profile", "Audit log", "Sign out"]
    for index, name in enumerate(names):
        assert_reachable(items.nth(index), f"{name} in the cogwheel menu")
    page.get_by_role("heading", level=1).click(position={"x": 5, "y": 5})  # beside the open panel
    expect(items.first).to_be_hidden()
    expect(cog).to_have_attribute("aria-expanded", "false")

    cog.click()
    items.first.focus()
    page.locator("#main").focus()  # the focus leaves the panel
    expect(items.first).to_be_hidden()
    expect(cog).to_have_attribute("aria-expanded", "false")

    cog.click()
    items.nth(3).focus()
    page.keyboard.press("Escape")
    expect(items.first).to_be_hidden()
    expect(cog).to_be_focused()

    # The login wizard: on each new step the focus is on the step's heading, not the top of the page.
    page.goto(reverse("accounts:user_create"))
    confirm_it_is_you(page, user)  # creating a login (and saving the company profile below) needs the step-up
    expect(page).to_have_url(re.compile(r"/users/new/"))
    expect(page.locator("main h2")).to_be_focused()
    page.locator("main [name='full_name']").fill("Jonas Berg")
    page.locator("main [name='email']").fill("jonas.berg@nordlys.example")
    page.locator("main [name='mobile']").fill("+4526155522")
    page.locator("main form.form button[type=submit]").first.click()
    expect(page.locator("main h2")).to_contain_text("Step 2")
    expect(page.locator("main h2")).to_be_focused()
    assert_no_horizontal_overflow(page, "the wizard's second step")

    # A colleague's page, the subscriptions and the audit log.
    active_company = page.locator("header select[name='company']").input_value()
    page.goto(reverse("accounts:user_edit", args=[colleague_pages[int(active_company)]]))
    expect(page.get_by_text(COLLEAGUE_EMAIL).first).to_be_visible()
    check_page(page, "a user's page")
    page.goto(reverse("subscriptions:list"))
    check_page(page, "subscriptions", table=True)
    # An employee's page (facts, SIM cards, change forms, usage chart and table, history), its account's
    # page and the connections list: the subscription area's other pages fit too.
    page.locator("table tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/subscriptions/\d+/$"))
    check_page(page, "an employee's page", table=True)
    page.locator("main dl a[href*='/subscriptions/accounts/']").click()
    expect(page).to_have_url(re.compile(r"/subscriptions/accounts/\d+/$"))
    check_page(page, "an account's page", table=True)
    page.goto(reverse("subscriptions:connections"))
    check_page(page, "connections")

    # Company profile: a half-filled delivery address. The error summary takes the focus, links to the
    # marked field, and the link puts the focus in that field.
    cog.click()
    page.locator("header .dropdown__panel").get_by_role("link", name="Company profile").click()
    expect(page).to_have_url(re.compile(r"/company/profile/$"))
    check_page(page, "company profile")
    page.locator("#id_delivery_street").fill("Lagervej 3")
    page.locator("main form button[type=submit]").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    browser_problems.allow("400 (Bad Request)")
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link")).to_have_count(2)
    city = page.locator("#id_delivery_city")
    expect(city).to_have_attribute("aria-invalid", "true")
    expect(city).to_have_accessible_description(re.compile("Enter the city of the delivery address"))
    summary.get_by_role("link", name=re.compile("city", re.I)).click()
    expect(city).to_be_focused()
    check_page(page, "company profile with an error")

    # Switch the language from the cogwheel; the rest in Danish.
    cog.click()
    page.get_by_role("button", name="Dansk", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    page.goto(reverse("accounts:profile"))
    check_page(page, "profile in Danish")
    page.goto(reverse("accounts:audit_log"))
    check_page(page, "audit log in Danish", table=True)
    open_main_menu(page)
    for index in range(len(MENU_ITEMS)):
        assert_reachable(main_menu(page).get_by_role("link").nth(index), f"item {index + 1} of the Danish main menu")

    # Sign out from the cogwheel.
    cog.click()
    page.locator(f"header form[action='{reverse('accounts:logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    assert_no_horizontal_overflow(page, "sign-in page after signing out")

    browser_problems.assert_none()


def test_without_javascript_the_phone_menu_is_listed_and_reachable(new_page, group_login, celery_worker):
    page = new_page(**PHONE_375, java_script_enabled=False)
    sign_in(page, group_login)
    expect(page.locator("header button[aria-controls='site-menu']")).to_be_hidden()
    links = main_menu(page).get_by_role("link")
    expect(links).to_have_text(MENU_ITEMS)
    for index, name in enumerate(MENU_ITEMS):
        assert_reachable(links.nth(index), f"{name} in the main menu without JavaScript")
    assert_no_horizontal_overflow(page, "overview without JavaScript")
    screenshot(page, "375-overview-without-javascript")
    # The cogwheel is a plain <details>: it opens and its items are on screen.
    settings_menu_toggle(page).click()
    items = cogwheel_items(page)
    for index in range(items.count()):
        assert_reachable(items.nth(index), f"cogwheel item {index + 1} without JavaScript")
