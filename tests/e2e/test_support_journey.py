"""A fault report followed by e-mail until it is closed, in a real browser with axe on every page, the
e-mails read from a real SMTP server (outbox → Redis → Celery worker → SMTP).

1. A user raises a fault report from the employee's page (the line prefilled); 2. staff answer in the back
office and ask for more; 3. the e-mail arrives, its link opens the report, the user adds information with a
file; 4. staff close it; the closing e-mail arrives and the report reads "Closed". The pages are checked at
phone width too.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import assert_no_horizontal_overflow
from tests.e2e.test_journey import sign_in
from tests.e2e.test_order_journey import sign_in_here
from tests.factories import BillingAccountFactory, CompanyFactory, StaffUserFactory, SubscriptionFactory
from tickets.models import Attachment, FaultReport, SupportCase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def estate(transactional_db, settings, live_server):
    settings.SITE_URL = live_server.url
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company)
    line = SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen", number="+4522334455",
                               type="mobile")
    reporter = make_member(company, Role.ORDERER, full_name="Sofie Jensen", email="sofie@nordlys.example",
                           mobile="+4520112255", language="en").user
    staff = StaffUserFactory(full_name="Olivia Operator", email="staff@operator.example", mobile="+4520110000",
                             language="en")
    return {"line": line, "reporter": reporter, "staff": staff}


def staff_update(page: Page, report: FaultReport, *, message: str, status: str):
    page.goto(reverse("admin:tickets_faultreport_change", args=[report.pk]))
    page.get_by_role("textbox", name="Message").fill(message)
    page.get_by_label("New status").select_option(status)
    page.get_by_role("button", name="Save the reply and status").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Saved. The status is now")


def mail_to(smtp_server, address, subject_part):
    found = wait_for(lambda: [m for m in smtp_server.to(address) if subject_part in m["Subject"]], timeout=20)
    return smtp_server.body(found[0])


def test_a_fault_report_from_the_employee_page_to_closed(new_page, estate, celery_worker, smtp_server, tmp_path):
    line, reporter = estate["line"], estate["reporter"]
    page = new_page()
    page.goto(reverse("accounts:login"))
    sign_in(page, reporter)

    # 1. From the employee's page: the form knows the line and asks what mobile faults need.
    page.goto(reverse("subscriptions:detail", args=[line.pk]))
    page.get_by_role("link", name="Report a fault").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create fault report")
    expect(page.locator("main")).to_contain_text("+4522334455")
    expect(page.locator("main")).to_contain_text("Karen Blixen")
    page.get_by_role("button", name="Report the fault").click()  # nothing filled: said beside the fields
    expect(page.locator(".error-summary")).to_contain_text("What does not work")
    assert not FaultReport.objects.exists()
    assert_accessible(page, label="fault report form with errors")
    page.get_by_label("What does not work").select_option(label="Calls do not work")
    page.get_by_label("Since when").fill("2026-12-01T08:00")
    page.get_by_label("Where").fill("Havnegade 12, København K (indoors)")
    page.get_by_label("Description").fill("Calls drop after a few seconds.")
    page.get_by_role("button", name="Report the fault").click()
    expect(page.locator("main")).to_contain_text("The fault is reported to the operator's technical support.")
    report = FaultReport.objects.get()
    assert (report.subscription_id, report.area, report.reference) == (line.pk, "mobile", "+4522334455")
    assert_accessible(page, label="the new fault report")

    # 2. Staff answer in the back office and ask for more.
    staff = new_page()
    staff.goto(reverse("admin:tickets_faultreport_change", args=[report.pk]))
    sign_in_here(staff, estate["staff"], rf"/backoffice/tickets/faultreport/{report.pk}/change/$")
    staff_update(staff, report, message="Is it the same in other places?", status="waiting")

    # 3. The e-mail arrives; its link opens the report, with the operator's question.
    body = mail_to(smtp_server, reporter.email, "Waiting for you")
    assert "Is it the same in other places?" in body
    link = re.search(r"(http://\S+/support/faults/\d+/)", body).group(1)
    page.goto(link)
    expect(page.locator(".thread")).to_contain_text("Is it the same in other places?")
    expect(page.locator("h1 .badge")).to_have_text("Waiting for you")
    assert_accessible(page, label="fault report waiting for the customer")
    page.get_by_role("textbox", name="Message").fill("Only at the office. Here is the call log.")
    log = tmp_path / "call-log.txt"
    log.write_text("08:02 call dropped\n08:05 call dropped\n", encoding="utf-8")
    page.get_by_label("Attachments (optional)").set_input_files(str(log))
    page.get_by_role("button", name="Add to the fault report").click()
    expect(page.locator("main")).to_contain_text("Your information is added to the fault report.")
    expect(page.locator(".thread")).to_contain_text("Only at the office.")
    expect(page.get_by_role("link", name="call-log.txt")).to_be_visible()
    assert Attachment.objects.get().original_name == "call-log.txt"
    expect(page.locator("h1 .badge")).to_have_text("Being investigated")

    # 4. Staff close it; the closing is e-mailed and the report reads "Closed".
    staff.goto(reverse("admin:tickets_faultreport_change", args=[report.pk]))
    expect(staff.locator("#content")).to_contain_text("call-log.txt")
    staff_update(staff, report, message="A faulty antenna near the office is replaced.", status="closed")
    assert "antenna" in mail_to(smtp_server, reporter.email, "Closed")
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    expect(page.locator("main")).to_contain_text("The fault report is closed.")
    assert_accessible(page, label="closed fault report")

    # The lists: history shows it; the page fits a phone.
    page.goto(reverse("tickets:fault_history"))
    expect(page.get_by_role("link", name=report.number)).to_be_visible()
    assert_accessible(page, label="fault report history")
    phone = new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    phone.goto(reverse("tickets:fault_detail", args=[report.pk]))
    sign_in_here(phone, reporter, rf"/support/faults/{report.pk}/$")
    assert_no_horizontal_overflow(phone, "fault report at phone width")


def test_a_support_case_from_the_employee_page_with_a_file(new_page, estate, celery_worker, tmp_path):
    line, reporter = estate["line"], estate["reporter"]
    page = new_page()
    page.goto(reverse("accounts:login"))
    sign_in(page, reporter)
    page.goto(reverse("subscriptions:detail", args=[line.pk]))
    page.get_by_role("link", name="Create support case").click()
    expect(page.locator("main")).to_contain_text("Started from its page, so it cannot be changed here.")
    assert_accessible(page, label="support case form")
    # Started from a mobile line, the area is already mobile and the services are mobile's.
    expect(page.get_by_label("Product area")).to_have_value("mobile")
    page.get_by_label("Service", exact=True).select_option(label="Roaming and abroad")
    page.get_by_label("Subject").fill("Roaming in Norway")
    page.get_by_label("Description").fill("Does the plan include calls in Norway?")
    disguised = tmp_path / "invoice.pdf"
    disguised.write_text("<html><script>alert(1)</script></html>", encoding="utf-8")
    page.get_by_label("Attachments (optional)").set_input_files(str(disguised))
    page.get_by_role("button", name="Submit case").click()
    expect(page.locator(".error-summary")).to_contain_text("is not a file type we accept")
    assert_accessible(page, label="support case form refusing a disguised file")
    real = tmp_path / "plan.txt"
    real.write_text("Plan: Mobil Fri 50 GB\n", encoding="utf-8")
    page.get_by_label("Attachments (optional)").set_input_files(str(real))
    page.get_by_role("button", name="Submit case").click()
    expect(page.locator("main")).to_contain_text("The case is sent to the operator's customer service.")
    expect(page.get_by_role("link", name="plan.txt")).to_be_visible()
    expect(page.locator("main")).to_contain_text("+4522334455")
    assert_accessible(page, label="the new support case")
    page.goto(reverse("tickets:index"))
    expect(page.get_by_role("link", name=re.compile(r"S\d{6}"))).to_have_count(1)
    assert_accessible(page, label="open support cases")
    phone = new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    phone.goto(reverse("tickets:index"))
    sign_in_here(phone, reporter, r"/support/$")
    assert_no_horizontal_overflow(phone, "open support cases at phone width")
    case = SupportCase.objects.get()
    phone.goto(reverse("tickets:case_detail", args=[case.pk]))
    assert_no_horizontal_overflow(phone, "support case at phone width")
    phone.goto(f'{reverse("tickets:case_create")}?subscription={line.pk}')
    assert_no_horizontal_overflow(phone, "support case form at phone width")
