"""The overview as the place to start, in a real browser (axe on every step, no console errors, no CSP
violations):

1. find a subscription with the global search in the top bar by keyboard only: Tab to it, type, arrow
   down through the grouped suggestions, Enter opens the line's page;
2. save a filtered list (blocked lines) as a shortcut and open it from the overview;
3. look up a PUK code on the overview (htmx swaps the card);
4. the same at phone width (375 px): nothing scrolls sideways, the search and the shortcut are reachable.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from subscriptions.models import SimCard
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import PHONE_375, assert_no_horizontal_overflow, assert_reachable
from tests.e2e.test_journey import sign_in
from tests.factories import BillingAccountFactory, CompanyFactory, SimCardFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def estate(transactional_db):
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company, number="4410001", name="Salg")
    karen = SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen",
                                number="+45 21234567", status="blocked")
    SimCardFactory(company=company, subscription=karen, status=SimCard.Status.ACTIVE)
    SubscriptionFactory(company=company, account=account, employee_name="Niels Bohr", number="+45 29876543")
    SubscriptionFactory(company=company, account=account, employee_name="Karl Blixt", number="+45 23456789")
    # Another company's Blixen must never be suggested.
    SubscriptionFactory(company=CompanyFactory(), employee_name="Bent Blixen", number="+45 21239999")
    boss = make_member(company, Role.SUPERUSER, email="mette.berg@nordlys.example", full_name="Mette Berg",
                       mobile="+4521436587")
    return {"user": boss.user, "karen": karen}


def tab_to(page: Page, element_id: str, *, limit: int = 40):
    """Press Tab until the element has the focus (the keyboard's way there, from the top of the page)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    pytest.fail(f"#{element_id} was not reached with {limit} presses of Tab")


def search_by_keyboard(page: Page, text: str, option_name, *, check=False):
    page.locator("body").focus()
    tab_to(page, "global-search-input")
    search = page.get_by_role("combobox", name="Search the whole portal")
    expect(search).to_be_focused()
    page.keyboard.type(text, delay=40)
    option = page.get_by_role("option", name=option_name)
    expect(option).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("group", name="Subscriptions")).to_be_visible()
    if check:
        assert_accessible(page, label="global search with suggestions")
    page.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "search-option-subscriptions-1")
    expect(page.locator("#search-option-subscriptions-1")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")


def test_search_by_keyboard_save_a_shortcut_and_look_up_a_puk(page, estate, celery_worker, browser_problems):
    sign_in(page, estate["user"])
    assert_accessible(page, label="overview")

    # 1. The global search, by keyboard only.
    search_by_keyboard(page, "Blix", re.compile("Karen Blixen"), check=True)
    expect(page).to_have_url(re.compile(rf"/subscriptions/{estate['karen'].pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Karen Blixen")
    assert "Bent Blixen" not in page.content()
    # Escape closes the suggestions; Enter without a chosen option shows every result (the no-JS page).
    page.locator("body").focus()
    tab_to(page, "global-search-input")
    page.keyboard.type("Blix", delay=40)
    expect(page.get_by_role("option", name=re.compile("Karen Blixen"))).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("combobox", name="Search the whole portal")).to_have_attribute(
        "aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Blix$"))
    expect(page.get_by_role("link", name="Karen Blixen")).to_be_visible()
    expect(page.get_by_role("link", name="Karl Blixt")).to_be_visible()
    assert_accessible(page, label="search results")

    # 2. A filtered list saved as a shortcut, opened from the overview.
    page.goto(reverse("subscriptions:list"))
    page.get_by_label("Status").select_option("blocked")
    expect(page).to_have_url(re.compile(r"status=blocked"))
    expect(page.get_by_role("link", name="Niels Bohr")).to_have_count(0)
    page.get_by_text("Save as shortcut", exact=True).click()
    page.get_by_label("Name of the shortcut").fill("Blocked lines")
    assert_accessible(page, label="list with the shortcut form open")
    page.get_by_role("button", name="Save shortcut").click()
    expect(page.locator(".messages")).to_contain_text("Saved as the shortcut “Blocked lines”")
    expect(page).to_have_url(re.compile(r"/subscriptions/\?status=blocked"))
    page.goto(reverse("overview"))
    shortcuts = page.locator("section[aria-labelledby='shortcuts-heading']")
    shortcuts.get_by_role("link", name="Blocked lines").click()
    expect(page).to_have_url(re.compile(r"/subscriptions/\?status=blocked"))
    expect(page.get_by_role("link", name="Karen Blixen")).to_be_visible()
    expect(page.get_by_role("link", name="Niels Bohr")).to_have_count(0)
    # And in the menu, on every page.
    page.locator("header .shortcuts-menu > summary").click()
    expect(page.locator("header .shortcuts-menu").get_by_role("link", name="Blocked lines")).to_be_visible()

    # 3. The PUK look-up on the overview (htmx swaps its card; audited).
    page.goto(reverse("overview"))
    card = page.locator("#quick-puk")
    card.get_by_label("Number").fill("21 23 45 67")
    card.get_by_role("button", name="Show the PUK codes").click()
    expect(page.locator("#quick-puk")).to_contain_text("12345678")
    expect(page.locator("#quick-puk")).to_contain_text("recorded in the company's audit log")
    assert_accessible(page, label="overview with the PUK codes")


def test_the_search_and_a_shortcut_at_phone_width(new_page, estate, celery_worker, browser_problems):
    page = new_page(**PHONE_375)
    sign_in(page, estate["user"])
    assert_no_horizontal_overflow(page, "overview at 375 px")
    assert_accessible(page, label="overview at 375 px")
    search = page.get_by_role("combobox", name="Search the whole portal")
    assert_reachable(search, "the global search at 375 px")

    search_by_keyboard(page, "21234567", re.compile("Karen Blixen"))
    expect(page).to_have_url(re.compile(rf"/subscriptions/{estate['karen'].pk}/$"))
    assert_no_horizontal_overflow(page, "employee page at 375 px")

    page.goto(reverse("subscriptions:list") + "?status=blocked")
    page.get_by_text("Save as shortcut", exact=True).click()
    assert_no_horizontal_overflow(page, "list with the shortcut form open at 375 px")
    page.get_by_label("Name of the shortcut").fill("Blocked on the go")
    page.get_by_role("button", name="Save shortcut").click()
    expect(page.locator(".messages")).to_contain_text("Blocked on the go")
    page.goto(reverse("overview"))
    link = page.locator("section[aria-labelledby='shortcuts-heading']").get_by_role("link", name="Blocked on the go")
    assert_reachable(link, "the shortcut on the overview at 375 px")
    link.click()
    expect(page).to_have_url(re.compile(r"status=blocked"))
    assert_no_horizontal_overflow(page, "the shortcut's list at 375 px")
