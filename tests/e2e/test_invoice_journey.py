"""Issue 11's journey through the invoices, in a real browser with axe on every page.

Open the invoice list, filter it to the overdue invoices, open one, read the 12-month chart's table,
open Specified. (The documents helper continues it: download the PDF, sign an account up for EAN and
download its UBL.)
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from invoices.billing import billing_run
from invoices.models import Invoice
from invoices.selectors import months_back
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import sign_in
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def invoiced(transactional_db):
    """A company with a year of invoices issued by the billing run; the last-but-one month is overdue."""
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company, name="Hovedkonto")
    plan = PricePlanFactory(code="journey-plan", name="Mobil Fri 50 GB", monthly_fee=Decimal("149.00"))
    for name in ("Astrid Holm", "Bjørn Kjær", "Carla Dahl"):
        SubscriptionFactory(company=company, account=account, employee_name=name, plan=plan,
                            activated_on=date(2020, 1, 1))
    periods = months_back(date(2026, 10, 1), 12)
    for period in periods:
        billing_run(period=period, company_ids=[company.pk], issue_date=period)
    Invoice.objects.filter(company=company, period__lt=periods[-2]).update(status="paid")
    Invoice.objects.filter(company=company, period=periods[-2]).update(status="overdue")
    membership = make_member(company, Role.SUPERUSER, email="mette.berg@nordlys.example", full_name="Mette Berg",
                             mobile="+4521436587", language="en")
    return membership.user, Invoice.objects.get(company=company, period=periods[-2])


def result_rows(page: Page):
    return page.locator("#list-results table tbody tr")


def test_open_the_list_filter_overdue_open_one_read_the_chart_and_open_specified(
        page, invoiced, celery_worker, browser_problems):
    user, overdue = invoiced
    sign_in(page, user)

    # 1. The invoice list: the menu's Invoices entry.
    page.get_by_role("link", name="Invoices", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/invoices/$"))
    expect(result_rows(page)).to_have_count(12)
    assert_accessible(page, label="invoice list")

    # 2. Filter to the overdue ones (htmx swaps the results and keeps the URL).
    page.get_by_label("Status").select_option(label="Overdue")
    expect(result_rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]status=overdue"))
    assert_accessible(page, label="invoice list, overdue")

    # 3. Open it.
    page.locator("#list-results tbody").get_by_role("link", name=str(overdue.number)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {overdue.number}")
    expect(page.locator("#invoice-status")).to_have_text("Overdue")
    assert_accessible(page, label="invoice page")

    # 4. The 12-month chart, and its figures as a table.
    expect(page.locator(".bar-chart__row")).to_have_count(12)
    history = page.get_by_role("table", name="Invoice amounts of the last 12 months")
    expect(history.locator("tbody tr")).to_have_count(12)
    expect(history.get_by_role("row", name=re.compile("September 2026"))).to_contain_text(
        f"{overdue.gross_total:,.2f} DKK")

    # 5. Specified: per user, then every line.
    page.get_by_role("link", name="Open Specified: per user").click()
    expect(page).to_have_url(re.compile(rf"/invoices/{overdue.pk}/specified/users/$"))
    expect(result_rows(page)).to_have_count(3)
    expect(page.locator("#specified-net")).to_have_text(f"{overdue.net_total:,.2f} DKK")
    assert_accessible(page, label="Specified per user")
    page.get_by_role("link", name="Every line").click()
    expect(result_rows(page)).to_have_count(3)
    expect(result_rows(page).first).to_contain_text("Mobil Fri 50 GB")
    assert_accessible(page, label="Specified, every line")
    browser_problems.assert_none()


def test_download_the_pdf_sign_the_account_up_for_ean_and_download_its_ubl(
        page, invoiced, celery_worker, browser_problems, tmp_path):
    """The documents part of the journey: the invoice's PDF (made by the worker; the page offers it
    without a reload), then the account signed up for EAN on its page, and the next month's e-invoice."""
    from invoices.documents import stale_document_ids
    from invoices.documents_models import InvoiceDocument
    from invoices.documents_tasks import render_invoice_document
    from invoices.peppol.validation import validate_ubl
    from tests.invoices.documents_helpers import pdf_text

    user, overdue = invoiced
    # The worker started after the fixture's billing runs and purged their queued tasks: the beat's sweep
    # queues such documents again, as here.
    for document_id in stale_document_ids(older_than_minutes=0):
        render_invoice_document.delay(document_id)
    sign_in(page, user)

    # 6. The PDF: the box polls while the worker makes it, then offers the download.
    page.goto(reverse("invoices:detail", args=[overdue.pk]))
    link = page.locator("#invoice-documents-box").get_by_role("link", name="Download PDF")
    expect(link).to_be_visible(timeout=90_000)
    assert_accessible(page, label="invoice page with its PDF")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"invoice-{overdue.number}.pdf"
    saved = tmp_path / "invoice.pdf"
    download.value.save_as(saved)
    text = pdf_text(saved.read_bytes())
    assert str(overdue.number) in text and overdue.payment_reference in text

    # 7. Sign the account up for e-invoicing by EAN on its page.
    page.goto(reverse("subscriptions:account_detail", args=[overdue.account_id]))
    page.get_by_label("Invoice format").select_option(label="E-invoice (EAN)")
    page.get_by_label("EAN (GLN)").fill("5790 0000 0001 2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The account's invoice settings are saved.")).to_be_visible()
    assert_accessible(page, label="account page signed up for EAN")

    # 8. The next month's invoice comes as an e-invoice too: download its UBL.
    billing_run(period=date(2026, 11, 1), company_ids=[overdue.company_id], issue_date=date(2026, 11, 1))
    november = Invoice.objects.get(account=overdue.account, period=date(2026, 11, 1))
    page.goto(reverse("invoices:detail", args=[november.pk]))
    ubl_link = page.locator("#invoice-documents-box").get_by_role("link", name="Download e-invoice (XML)")
    expect(ubl_link).to_be_visible(timeout=90_000)
    with page.expect_download() as download:
        ubl_link.click()
    assert download.value.suggested_filename == f"invoice-{november.number}.xml"
    saved = tmp_path / "invoice.xml"
    download.value.save_as(saved)
    assert saved.read_bytes() == InvoiceDocument.objects.get(invoice=november, kind="ubl").file.open("rb").read()
    assert validate_ubl(saved.read_bytes()).ok
    browser_problems.assert_none()
