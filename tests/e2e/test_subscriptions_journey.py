"""Issue 9's journey through the subscriptions, in a real browser with axe on every page.

1. search an employee by part of the number; 2. open the employee's page; 3. block the SIM card with a
reason and watch the line become "Blocked" without a reload (the worker hands the change to the
simulator, which answers); 4. change the invoice note of three lines in one bulk action (the step-up,
the confirmation with the number of lines, the job's progress, its result file); 5. export the
filtered list and open the file. The bulk pages are checked at 375 px too.
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from subscriptions.models import Subscription
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import PHONE_375, assert_no_horizontal_overflow
from tests.e2e.test_consent_journey import confirm_it_is_you
from tests.e2e.test_journey import sign_in
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

EMPLOYEES = [("Astrid Holm", "+45 20445566"), ("Bjørn Kjær", "+45 20112233"), ("Carla Dahl", "+45 20778899"),
             ("Dorthe Lund", "+45 20990011")]


@pytest.fixture
def estate(transactional_db, settings):
    settings.PROVISIONING_SIMULATOR_DELAY = 0.5
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company)
    lines = {name: SubscriptionFactory(account=account, employee_name=name, number=number)
             for name, number in EMPLOYEES}
    membership = make_member(company, Role.SUPERUSER, email="mette.berg@nordlys.example", full_name="Mette Berg",
                             mobile="+4521436587", language="en")
    return membership.user, lines


def search(page: Page, text: str):
    page.get_by_label("Search by name, number, e-mail or subscription id").fill(text)


def result_rows(page: Page):
    return page.locator("#list-results table tbody tr")


def test_search_block_bulk_note_and_export(page, new_page, estate, celery_worker, browser_problems):
    user, lines = estate
    sign_in(page, user)

    # 1. Search by part of the number: the list narrows as one types (htmx), the URL keeps the search.
    page.goto(reverse("subscriptions:list"))
    assert_accessible(page, label="subscriptions with the bulk selection")
    search(page, "4455")
    expect(result_rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]q=4455"))
    assert_accessible(page, label="subscriptions searched")

    # 2. Open the employee's page.
    page.locator("#list-results tbody").get_by_role("link", name="Astrid Holm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Astrid Holm")
    assert_accessible(page, label="employee page")

    # 3. Block with a reason; the status follows without a reload.
    page.locator("summary", has_text="Block the SIM card").click()
    page.get_by_label("Lost").check()
    page.get_by_role("button", name="Block", exact=True).click()
    status = page.locator("#subscription-status")
    expect(status).to_have_text("Active")
    page.evaluate("() => { window.__sameDocument = true; }")
    expect(status).to_have_text("Blocked", timeout=15_000)
    expect(page.locator("#subscription-status-text")).to_contain_text("Blocked (Lost)")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    assert_accessible(page, label="employee page after the block")
    assert Subscription.objects.get(pk=lines["Astrid Holm"].pk).status == "blocked"

    # 4. The invoice note of three lines in one go.
    page.goto(reverse("subscriptions:list"))
    chosen = ["Bjørn Kjær", "Carla Dahl", "Dorthe Lund"]
    every = page.get_by_role("checkbox", name="Select every line on this page")
    every.check()
    expect(page.locator("input[name='bulk_ids']:checked")).to_have_count(4)
    every.uncheck()
    expect(page.locator("input[name='bulk_ids']:checked")).to_have_count(0)
    for name in chosen:
        page.get_by_role("checkbox", name=re.compile(f"^Select {name}")).check()
    expect(every).not_to_be_checked()
    page.get_by_label("Change", exact=True).select_option(label="Set the invoice note")
    page.get_by_role("button", name="Continue").click()
    confirm_it_is_you(page, user)  # a bulk change needs the step-up
    expect(page.get_by_role("heading", level=1)).to_have_text("Set the invoice note")
    expect(page.get_by_role("status")).to_have_text("3 lines will change.")
    assert_accessible(page, label="bulk confirmation")
    page.get_by_label("Invoice note").fill("Afd. 7 Salg")
    page.get_by_role("button", name="Change 3 lines").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.locator(".job-progress__status")).to_have_text("Finished.", timeout=15_000)
    expect(page.locator(".job-progress__counts")).to_contain_text("3 succeeded")
    assert_accessible(page, label="bulk job page")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Download result-")).click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[0] == ["Line", "Number", "Employee", "Outcome", "Reason"]
    assert sorted((row[2], row[3]) for row in rows[1:]) == [(name, "Done") for name in chosen]
    notes = dict(Subscription.objects.values_list("employee_name", "invoice_note"))
    assert notes == {"Astrid Holm": "", **{name: "Afd. 7 Salg" for name in chosen}}

    # 5. Export the filtered list and open the file.
    page.goto(reverse("subscriptions:list"))
    page.get_by_label("Status").select_option(label="Active")
    # Any filter of the bar updates the list as it is picked (not only the first select), and the URL keeps it.
    expect(result_rows(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"status=active"))
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    exported = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert exported[0][0] == "Employee"
    assert sorted(row[0] for row in exported[1:]) == chosen  # the blocked line is filtered out

    # The bulk bar and the confirmation at 375 px.
    phone = new_page(**PHONE_375)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(reverse("subscriptions:list"))
    assert_no_horizontal_overflow(phone, "subscriptions with the bulk selection at 375 px")
    assert_accessible(phone, label="subscriptions at 375 px")
    phone.get_by_label("All 4 lines in the list").check()
    phone.get_by_label("Change", exact=True).select_option(label="Block the SIM cards")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("status")).to_have_text("4 lines will change.")
    expect(phone.get_by_text("1 of them cannot take this change now")).to_be_visible()
    assert_no_horizontal_overflow(phone, "bulk confirmation at 375 px")
    assert_accessible(phone, label="bulk confirmation at 375 px")
    browser_problems.assert_none()
