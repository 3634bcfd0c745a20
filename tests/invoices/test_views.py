"""The invoice list, the invoice page, Specified and the usage page, as a member reads them."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from invoices.billing import billing_run, subscription_totals_write
from invoices.models import Invoice, InvoiceSubscriptionTotal, UsagePool, UsagePoolMember
from invoices.selectors import invoice_notices
from invoices.views import CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, LINE_COLUMNS, SUBSCRIPTION_TOTAL_COLUMNS
from subscriptions.models import UsageRecord
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, PricePlanFactory, SubscriptionFactory
from tests.invoices.factories import InvoiceFactory, invoice_with_lines
from tests.tenancy import response_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(company):
    return make_member(company, Role.READ_ONLY)


@pytest.fixture
def browser(member):
    return verified_client(member.user)


def _text(response) -> str:
    return response_text(response)


def _xlsx_rows(response):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.values)


def test_list_filters_by_status_period_and_account_and_searches(company, browser):
    first, second = BillingAccountFactory(company=company, name="Salg"), BillingAccountFactory(company=company,
                                                                                             name="Lager")
    overdue = InvoiceFactory(account=first, company=company, status="overdue", number=4711)
    paid = InvoiceFactory(account=second, company=company, status="paid", number=4712)
    older = InvoiceFactory(account=first, company=company, period=date(2026, 9, 1), number=4713)
    url = reverse("invoices:index")

    def numbers(**params):
        response = browser.get(url, params)
        assert response.status_code == 200
        return {n for n in (4711, 4712, 4713) if f">{n}<" in response.content.decode()}

    assert numbers() == {4711, 4712, 4713}
    assert numbers(status="overdue") == {overdue.number}
    assert numbers(period="2026-09") == {older.number}
    assert numbers(account=second.pk) == {paid.number}
    assert numbers(q="4712") == {paid.number}
    assert numbers(q="lager") == {paid.number}


@pytest.mark.parametrize("column", [c.key for c in INVOICE_COLUMNS])
def test_list_sorts_by_every_column(company, browser, column):
    account = BillingAccountFactory(company=company)
    for number, total in ((5001, "10.00"), (5002, "30.00"), (5003, "20.00")):
        InvoiceFactory(account=account, company=company, number=number, period=date(2026, 10 - number % 5001, 1),
                       net_total=Decimal(total), vat_total=Decimal("0"), gross_total=Decimal(total))
    for sort in (column, f"-{column}"):
        response = browser.get(reverse("invoices:index"), {"sort": sort})
        assert response.status_code == 200
        assert "cannot be sorted" not in _text(response)
    ascending = browser.get(reverse("invoices:index"), {"sort": "gross"}).content.decode()
    assert ascending.index(">5001<") < ascending.index(">5003<") < ascending.index(">5002<")


def test_exports_are_the_filtered_list(company, browser):
    account = BillingAccountFactory(company=company, name="Eksport")
    InvoiceFactory(account=account, company=company, status="overdue", number=6001, gross_total=Decimal("1250.50"),
                   net_total=Decimal("1000.40"), vat_total=Decimal("250.10"))
    InvoiceFactory(account=account, company=company, status="paid", number=6002, period=date(2026, 9, 1))

    rows = _xlsx_rows(browser.get(reverse("invoices:index_export_xlsx"), {"status": "overdue"}))
    assert rows[0][0] == "Invoice" and len(rows) == 2
    assert rows[1][0] == 6001 and Decimal(str(rows[1][8])) == Decimal("1250.50")
    text = b"".join(browser.get(reverse("invoices:index_export"), {"status": "overdue"}).streaming_content)
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=text.decode("utf-8-sig")[7]))
    assert len(lines) == 2 and "6001" in lines[1]


def test_invoice_page_has_the_header_the_chart_and_its_table(company, browser):
    account = BillingAccountFactory(company=company, name="Hovedkonto")
    for month in range(1, 11):
        InvoiceFactory(account=account, company=company, period=date(2026, month, 1),
                       gross_total=Decimal(f"{month}00.00"), net_total=Decimal(f"{month}00.00"),
                       vat_total=Decimal("0.00"))
    invoice = Invoice.objects.get(account=account, period=date(2026, 10, 1))

    response = browser.get(reverse("invoices:detail", args=[invoice.pk]))

    text = _text(response)
    assert str(invoice.number) in text and invoice.payment_reference in text
    assert "Hovedkonto" in text and "October 2026" in text
    assert "1,000.00 DKK" in text  # incl. VAT, the reader's format
    page = response.content.decode()
    assert page.count('class="bar-chart__row"') == 12
    table = page[page.index('id="history-table"'):]
    assert "November 2025" in table and "No invoice" in table  # 12 months back, two without an invoice
    assert "500.00 DKK" in table
    assert 'id="invoice-documents"' in page  # the documents helper's spot


def test_specified_pages_lines_and_users_with_totals_that_add_up(company, browser):
    account = BillingAccountFactory(company=company)
    invoice = invoice_with_lines(account=account, lines=250)
    with connection.cursor() as cursor:
        subscription_totals_write(cursor, invoice_condition="i.id = %(id)s", params={"id": invoice.pk})

    first = browser.get(reverse("invoices:lines", args=[invoice.pk]))
    assert first.status_code == 200
    assert first.context["list_page"].count == 250 and len(first.context["list_page"].rows) == 50
    following = browser.get(reverse("invoices:lines", args=[invoice.pk]) + first.context["paging"]["next"])
    assert following.context["list_page"].rows[0].position == 51
    found = browser.get(reverse("invoices:lines", args=[invoice.pk]), {"q": "Employee 00042"})
    assert [line.position for line in found.context["list_page"].rows] == [43]

    users = browser.get(reverse("invoices:users", args=[invoice.pk]))
    assert users.context["list_page"].count == 250
    per_user = InvoiceSubscriptionTotal.objects.filter(invoice=invoice).aggregate(total=Sum("net_amount"))["total"]
    assert per_user == invoice.lines.aggregate(total=Sum("net_amount"))["total"] == invoice.net_total
    assert "25,000.00 DKK" in _text(users)


def test_billed_invoice_lines_equal_specification_equal_header(company, browser):
    account = BillingAccountFactory(company=company)
    plan = PricePlanFactory(code="view-plan", name="Mobil 129", monthly_fee=Decimal("129.00"))
    for day in (1, 3, 7, 19):
        SubscriptionFactory(company=company, account=account, plan=plan, activated_on=date(2026, 10, day))
    billing_run(period=date(2026, 10, 1))
    invoice = Invoice.objects.get()

    exported = _xlsx_rows(browser.get(reverse("invoices:lines_export_xlsx", args=[invoice.pk])))
    assert sum(Decimal(str(row[8])) for row in exported[1:]) == invoice.net_total
    users = _xlsx_rows(browser.get(reverse("invoices:users_export_xlsx", args=[invoice.pk])))
    assert sum(Decimal(str(row[3])) for row in users[1:]) == invoice.net_total
    page = _text(browser.get(reverse("invoices:detail", args=[invoice.pk])))
    assert f"{invoice.net_total:,.2f} DKK" in page and f"{invoice.gross_total:,.2f} DKK" in page


def _queries(browser, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


def test_the_pages_cost_the_same_queries_at_two_sizes(company, browser):
    small_account, large_account = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    small = invoice_with_lines(account=small_account, lines=3)
    large = invoice_with_lines(account=large_account, lines=400)
    for month in range(1, 10):
        InvoiceFactory(account=large_account, company=company, period=date(2026, month, 1))
    with connection.cursor() as cursor:
        subscription_totals_write(cursor, invoice_condition="i.id = ANY(%(ids)s)", params={"ids": [small.pk, large.pk]})

    for name in ("invoices:detail", "invoices:lines", "invoices:users"):
        small_count = _queries(browser, reverse(name, args=[small.pk]))
        assert small_count == _queries(browser, reverse(name, args=[large.pk])), name
    few = _queries(browser, reverse("invoices:index"))
    for _ in range(40):
        InvoiceFactory(account=small_account, company=company)  # each in a month of its own
    assert _queries(browser, reverse("invoices:index")) == few


def test_restricted_login_sees_only_its_accounts_invoices_and_notices(company):
    mine, other = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    InvoiceFactory(account=mine, company=company, status="overdue", gross_total=Decimal("125.00"))
    InvoiceFactory(account=mine, company=company, status="open", gross_total=Decimal("125.00"),
                   period=date(2026, 9, 1))
    InvoiceFactory(account=other, company=company, status="overdue")
    restricted = make_member(company, Role.READ_ONLY, accounts=[mine])

    notices = invoice_notices(restricted)

    assert notices["overdue"] == {"count": 1, "amount": Decimal("125.00")}
    assert notices["open"] == {"count": 1, "amount": Decimal("125.00")}
    assert notices["currency"] == "DKK" and notices["any"]
    everyone = invoice_notices(make_member(company, Role.READ_ONLY))
    assert everyone["overdue"]["count"] == 2


def test_usage_page_shows_pools_and_usage_per_number(company, browser):
    account = BillingAccountFactory(company=company)
    period = date(2026, 10, 1)
    pool = UsagePool.objects.create(company=company, account=account, name="Fælles 20 GB", data_gb=20)
    for index, megabytes in enumerate((5 * 1024, 3 * 1024)):
        line = SubscriptionFactory(company=company, account=account, employee_name=f"Pool Bruger {index}")
        UsagePoolMember.objects.create(company=company, pool=pool, subscription=line)
        UsageRecord.objects.create(company=company, subscription=line, period=period, data_mb=megabytes)

    response = browser.get(reverse("invoices:usage"), {"period": "2026-10"})

    page = response.content.decode()
    pools = page[page.index('id="pool-table"'):page.index("</table>", page.index('id="pool-table"'))]
    assert "Fælles 20 GB" in pools and ">20<" in pools and ">8.0<" in pools and ">12.0<" in pools
    assert "Pool Bruger 0" in page and "Pool Bruger 1" in page
    assert "8.0 of 20 GB" in page  # the chart's text
    assert response.context["list_page"].count == 2
    assert [row.data_mb for row in response.context["list_page"].rows] == [5 * 1024, 3 * 1024]


def test_every_list_column_is_sortable():
    for columns in (INVOICE_COLUMNS, LINE_COLUMNS, SUBSCRIPTION_TOTAL_COLUMNS, CREDIT_NOTE_COLUMNS):
        assert all(column.sortable for column in columns)


def test_demo_invoices_fill_the_pages_once():
    from django.core.management import call_command

    from invoices.models import CreditNote, InvoiceLine

    call_command("seed_demo", stdout=io.StringIO())
    counts = [model.objects.count() for model in (Invoice, InvoiceLine, CreditNote, UsagePool)]
    call_command("seed_demo", stdout=io.StringIO())
    assert [model.objects.count() for model in (Invoice, InvoiceLine, CreditNote, UsagePool)] == counts
    assert Invoice.objects.filter(status="overdue").exists() and Invoice.objects.filter(status="credited").exists()
    assert Invoice.objects.filter(status="open").exists() and Invoice.objects.filter(status="paid").exists()
    assert Invoice.objects.values("period").distinct().count() == 12
    assert Invoice.objects.filter(currency="SEK").exists()
    assert InvoiceLine.objects.filter(kind="usage").exists()
