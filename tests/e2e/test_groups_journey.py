"""Issue 12's journey through the groups, in a real browser with axe on every page.

Create a category and two groups; move a subscription from one to the other from next month; filter
the subscription list by group; upload a workbook with one bad row and see it refused with the reason;
fix it and apply.
"""

import io
import re

import pytest
from django.urls import reverse
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from groups.models import GroupMembership
from groups.months import format_month, month_after, this_month
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import sign_in
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory


@pytest.fixture
def estate(transactional_db):
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company)
    lines = {name: SubscriptionFactory(account=account, employee_name=name, number=number)
             for name, number in [("Astrid Holm", "+45 20445566"), ("Bjørn Kjær", "+45 20112233"),
                                  ("Carla Dahl", "+45 20778899")]}
    membership = make_member(company, Role.SUPERUSER, email="mette.berg@nordlys.example", full_name="Mette Berg",
                             mobile="+4521436587", language="en")
    return membership.user, lines


def workbook(rows) -> bytes:
    book = Workbook()
    book.active.append(["Account number", "Subscription number", "Subscription id", "Category", "Group",
                        "Start month", "End month"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(page: Page, content: bytes, name: str):
    page.goto(reverse("groups:upload"))
    assert_accessible(page, label="the upload page")
    page.get_by_label("Assignments of account numbers and subscriptions").check()
    page.get_by_label("Workbook (.xlsx)").set_input_files(
        files=[{"name": name, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content}])
    page.get_by_role("button", name="Check the workbook").click()


def test_categories_a_move_the_filter_and_an_upload(page, estate, celery_worker, browser_problems):
    user, lines = estate
    sign_in(page, user)
    now, next_month = format_month(this_month()), format_month(month_after(this_month()))

    # 1. A category and two groups.
    page.goto(reverse("groups:index"))
    assert_accessible(page, label="groups, none yet")
    page.get_by_role("link", name="Create a category").click()
    page.get_by_label("Name").fill("Cost centre")
    page.get_by_label("Description").fill("Where the cost is booked")
    assert_accessible(page, label="the category form")
    page.get_by_role("button", name="Create the category").click()
    for name in ("2010", "2020"):
        page.get_by_role("link", name="Create a group in Cost centre").click()
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("link", name="Cost centre:2010")).to_be_visible()
    expect(page.get_by_role("link", name="Cost centre:2020")).to_be_visible()
    assert_accessible(page, label="groups with a category")

    # 2. Astrid in 2010 from this month, then moved to 2020 from next month.
    page.goto(reverse("subscriptions:detail", args=[lines["Astrid Holm"].pk]))
    page.get_by_role("link", name="Show and change the groups").click()
    assert_accessible(page, label="a line's groups, none yet")
    page.get_by_label("Group", exact=True).select_option(label="Cost centre:2010")
    page.get_by_label("From month", exact=True).fill(now)
    page.get_by_role("button", name="Add to the group").click()
    expect(page.get_by_text("The line is added to Cost centre:2010.")).to_be_visible()
    page.get_by_label("New group", exact=True).select_option(label="Cost centre:2020")
    page.get_by_label("First month in the new group").fill(next_month)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text(f"From {next_month} the line is in Cost centre:2020.")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Active")
    expect(rows.nth(1)).to_contain_text("Later")
    assert_accessible(page, label="a line's groups over time")

    # 3. The subscription list filtered by group: this month Astrid is in 2010, nobody yet in 2020.
    page.goto(reverse("subscriptions:list"))
    page.get_by_label("Groups").select_option(label="Cost centre:2010")
    expect(page.locator("#list-results table tbody tr")).to_have_count(1)
    expect(page.locator("#list-results")).to_contain_text("Astrid Holm")
    expect(page).to_have_url(re.compile(r"[?&]groups=\d+"))
    assert_accessible(page, label="the subscription list filtered by group")

    # 4. A workbook with one bad row: refused, with the reason, and nothing written.
    bad = workbook([["", "+45 20112233", "", "Cost centre", "2010", now, ""],
                    ["", "+45 20778899", "", "Cost centre", "2030", now, ""]])
    upload(page, bad, "groups.xlsx")
    refused = page.locator("#refused-rows")
    expect(refused).to_contain_text("There is no group called “2030” in Cost centre.")
    expect(page.get_by_role("button", name="Apply all of it")).to_have_count(0)
    assert_accessible(page, label="the check with a refused row")
    assert GroupMembership.objects.count() == 2

    # 5. Fixed, uploaded again and applied.
    good = workbook([["", "+45 20112233", "", "Cost centre", "2010", now, ""],
                     ["", "+45 20778899", "", "Cost centre", "2020", now, ""]])
    upload(page, good, "groups-fixed.xlsx")
    expect(page.locator("#planned-rows")).to_contain_text("Created")
    page.get_by_role("button", name="Apply all of it").click()
    expect(page.get_by_text("The workbook is applied: 2 created, 0 changed.")).to_be_visible()
    assert_accessible(page, label="the applied workbook")
    assert GroupMembership.objects.count() == 4
    browser_problems.assert_none()
