"""The billing run pro-rates price plan and add-on changes by day: the history is recorded when a change is
carried out (PlanChange, AddOnChange), and each plan or add-on is charged for the days the line had it."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from invoices import pricing
from invoices.billing import billing_run
from invoices.models import Invoice, InvoiceLine, InvoiceSubscriptionTotal
from subscriptions.models import AddOnChange, ChangeRequest, PlanChange, SubscriptionEvent, UsageRecord
from subscriptions.services import change_request_complete, change_requests_apply_due, change_requests_complete_many
from tests.factories import AddOnFactory, BillingAccountFactory, PricePlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 1)  # 31 days
TZ = ZoneInfo("Europe/Copenhagen")
D = Decimal


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=TZ)


def clock(day: date):
    return mock.patch("django.utils.timezone.now", return_value=at(day))


@pytest.fixture
def plans():
    return {
        "199": PricePlanFactory(code="chg-199", name="Mobil 199", monthly_fee=D("199.00"), data_gb=10),
        "299": PricePlanFactory(code="chg-299", name="Mobil 299", monthly_fee=D("299.00"), data_gb=50),
        "99": PricePlanFactory(code="chg-99", name="Mobil 99", monthly_fee=D("99.00"), data_gb=2),
    }


@pytest.fixture
def roaming():
    return AddOnFactory(code="chg-roam", name="Roaming", monthly_fee=D("49.00"))


def line_of(account, plan, activated_on=date(2025, 1, 1)):
    return SubscriptionFactory(company=account.company, account=account, plan=plan, activated_on=activated_on)


def carried_out(line, action, day, effective_date=None, **params):
    """The operator's system reports the change done on ``day`` (the provisioning port's answer)."""
    change = ChangeRequest.objects.create(company=line.company, subscription=line, action=action, params=params,
                                          status=ChangeRequest.Status.SENT, effective_date=effective_date)
    with clock(day):
        assert change_request_complete(change_id=change.pk, ok=True)
    return change


def charged(account, kind=None):
    lines = InvoiceLine.objects.filter(invoice__account=account, invoice__period=OCTOBER).order_by("position")
    if kind:
        lines = lines.filter(kind=kind)
    return [(row.description, row.starts_on, row.ends_on, row.quantity, row.unit_price, row.net_amount)
            for row in lines]


def fee(name, fee_amount, first, last):
    """What a pro-rated line states, by the rules of invoices.pricing (quantity, day's price, amount)."""
    quantity, unit_price = pricing.fee_quantity_and_price(fee_amount, OCTOBER, first, last)
    return (name, first, last, quantity, unit_price, pricing.prorate(fee_amount, OCTOBER, first, last))


def test_a_plan_changed_on_the_11th_is_two_lines_at_each_plans_fee(account, plans):
    line = line_of(account, plans["199"])
    UsageRecord.objects.create(company=account.company, subscription=line, period=OCTOBER, data_mb=20 * 1024)
    change = carried_out(line, "change_plan", date(2026, 10, 11), plan_id=plans["299"].pk, plan="Mobil 299")

    history = PlanChange.objects.get(subscription=line)
    assert (history.changed_on, history.plan_before, history.plan_after, history.change_request) == (
        date(2026, 10, 11), plans["199"], plans["299"], change)

    billing_run(period=OCTOBER)

    assert charged(account) == [
        ("Mobil 199", date(2026, 10, 1), date(2026, 10, 10), D("10"), D("6.4194"), D("64.19")),  # 199 × 10/31
        ("Mobil 299", date(2026, 10, 11), date(2026, 10, 31), D("21"), D("9.6452"), D("202.55")),  # 299 × 21/31
    ]
    # 20 GB used: within the 50 GB of the plan it has at the month's end (the old plan's 10 would charge 10 GB).
    invoice = Invoice.objects.get(account=account)
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("266.74"), D("66.69"), D("333.43"))


def test_a_plan_change_in_a_batch_of_answers_is_recorded_too(account, plans):
    line = line_of(account, plans["199"])
    change = ChangeRequest.objects.create(company=account.company, subscription=line, action="change_plan",
                                          params={"plan_id": plans["99"].pk}, status=ChangeRequest.Status.SENT)
    with clock(date(2026, 10, 21)):
        assert change_requests_complete_many(answers=[(change.pk, True)]) == 1

    billing_run(period=OCTOBER)

    assert charged(account) == [fee("Mobil 199", D("199.00"), date(2026, 10, 1), date(2026, 10, 20)),
                                fee("Mobil 99", D("99.00"), date(2026, 10, 21), date(2026, 10, 31))]


def test_an_add_on_added_mid_month_is_charged_from_that_day(account, plans, roaming):
    line = line_of(account, plans["199"])
    carried_out(line, "add_add_on", date(2026, 10, 21), add_on_id=roaming.pk, add_on="Roaming")

    assert AddOnChange.objects.filter(subscription=line, changed_on=date(2026, 10, 21), added=True).exists()
    billing_run(period=OCTOBER)

    assert charged(account, "add_on") == [
        ("Roaming", date(2026, 10, 21), date(2026, 10, 31), D("11"), D("1.5806"), D("17.39"))]  # 49 × 11/31
    assert charged(account, "fee") == [fee("Mobil 199", D("199.00"), OCTOBER, date(2026, 10, 31))]


def test_an_add_on_removed_mid_month_is_charged_to_the_day_before(account, plans, roaming):
    line = line_of(account, plans["199"])
    voicemail = AddOnFactory(code="chg-vm", name="Voicemail", monthly_fee=D("10.00"))
    line.add_ons.add(roaming, voicemail)
    carried_out(line, "remove_add_on", date(2026, 10, 11), add_on_id=roaming.pk, add_on="Roaming")

    billing_run(period=OCTOBER)

    assert charged(account, "add_on") == [
        ("Roaming", date(2026, 10, 1), date(2026, 10, 10), D("10"), D("1.5806"), D("15.81")),  # 49 × 10/31
        ("Voicemail", date(2026, 10, 1), date(2026, 10, 31), D("1"), D("10.0000"), D("10.00")),  # kept all month
    ]


def test_a_change_on_the_1st_is_no_split_and_the_month_before_keeps_the_old_plan(account, plans, roaming):
    line = line_of(account, plans["199"])
    # Asked for "from next month"; the daily job applies it two days late (after downtime): it still took
    # effect on its date, the 1st.
    change = ChangeRequest.objects.create(company=account.company, subscription=line, action="change_plan",
                                          params={"plan_id": plans["299"].pk}, effective_date=OCTOBER,
                                          status=ChangeRequest.Status.SCHEDULED)
    with clock(date(2026, 10, 3)):
        assert change_requests_apply_due() == 1
    carried_out(line, "add_add_on", OCTOBER, add_on_id=roaming.pk)
    assert PlanChange.objects.get(change_request=change).changed_on == OCTOBER

    billing_run(period=date(2026, 9, 1))
    billing_run(period=OCTOBER)

    september = InvoiceLine.objects.get(invoice__period=date(2026, 9, 1))  # the old plan, no add-on yet
    assert (september.description, september.quantity, september.net_amount) == ("Mobil 199", 1, D("199.00"))
    assert charged(account) == [("Mobil 299", OCTOBER, date(2026, 10, 31), D("1"), D("299.0000"), D("299.00")),
                                ("Roaming", OCTOBER, date(2026, 10, 31), D("1"), D("49.0000"), D("49.00"))]


def test_a_change_after_the_month_leaves_the_month_at_the_plan_it_had(account, plans):
    line = line_of(account, plans["199"])
    UsageRecord.objects.create(company=account.company, subscription=line, period=OCTOBER, data_mb=12 * 1024)
    carried_out(line, "change_plan", date(2026, 11, 5), plan_id=plans["299"].pk)

    billing_run(period=OCTOBER)

    assert charged(account, "fee") == [fee("Mobil 199", D("199.00"), OCTOBER, date(2026, 10, 31))]
    usage = InvoiceLine.objects.get(invoice__account=account, kind="usage")
    assert (usage.quantity, usage.net_amount) == (D("2"), D("98.00"))  # 12 GB on October's 10 GB plan


def test_two_changes_in_a_month_on_a_line_started_mid_month(account, plans, roaming):
    line = line_of(account, plans["199"], activated_on=date(2026, 10, 5))
    carried_out(line, "change_plan", date(2026, 10, 8), plan_id=plans["299"].pk)
    carried_out(line, "add_add_on", date(2026, 10, 15), add_on_id=roaming.pk)
    carried_out(line, "change_plan", date(2026, 10, 20), plan_id=plans["99"].pk)
    carried_out(line, "remove_add_on", date(2026, 10, 25), add_on_id=roaming.pk)

    billing_run(period=OCTOBER)

    assert charged(account) == [
        ("Mobil 199", date(2026, 10, 5), date(2026, 10, 7), D("3"), D("6.4194"), D("19.26")),
        ("Mobil 299", date(2026, 10, 8), date(2026, 10, 19), D("12"), D("9.6452"), D("115.74")),
        ("Mobil 99", date(2026, 10, 20), date(2026, 10, 31), D("12"), D("3.1935"), D("38.32")),
        ("Roaming", date(2026, 10, 15), date(2026, 10, 24), D("10"), D("1.5806"), D("15.81")),
    ]
    assert [PlanChange.objects.filter(subscription=line).count(), AddOnChange.objects.filter(subscription=line)
            .count()] == [2, 2]


def test_a_plan_change_and_a_move_split_the_month_on_both_accounts(company, plans):
    first, second = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    line = line_of(first, plans["199"])
    carried_out(line, "change_plan", date(2026, 10, 11), plan_id=plans["299"].pk)
    carried_out(line, "move_account", date(2026, 10, 21), account_id=second.pk, account=second.number)
    assert SubscriptionEvent.objects.filter(subscription=line, action="move_account").exists()

    billing_run(period=OCTOBER)

    assert charged(first) == [fee("Mobil 199", D("199.00"), OCTOBER, date(2026, 10, 10)),
                              fee("Mobil 299", D("299.00"), date(2026, 10, 11), date(2026, 10, 20))]
    assert charged(second) == [fee("Mobil 299", D("299.00"), date(2026, 10, 21), date(2026, 10, 31))]
    assert [row[-1] for row in charged(first) + charged(second)] == [D("64.19"), D("96.45"), D("106.10")]


def test_split_lines_add_up_with_vat_rounded_once_to_the_ore(account):
    # November (30 days): one day of 0.15 is 0.005, rounded half up once per line to 0.01; VAT is 25 % of
    # the invoice's net total rounded once (0.345 -> 0.35), not the lines' VAT summed (0.33).
    november = date(2026, 11, 1)
    cheap = PricePlanFactory(code="chg-015", name="Data 0,15", monthly_fee=D("0.15"), data_gb=None)
    dearer = PricePlanFactory(code="chg-045", name="Data 0,45", monthly_fee=D("0.45"), data_gb=None)
    sms = AddOnFactory(code="chg-sms", name="SMS-pakke", monthly_fee=D("0.15"))
    for _ in range(3):
        line = line_of(account, cheap)
        carried_out(line, "change_plan", date(2026, 11, 2), plan_id=dearer.pk)
        carried_out(line, "add_add_on", date(2026, 11, 30), add_on_id=sms.pk)

    billing_run(period=november)

    invoice = Invoice.objects.get()
    lines = list(invoice.lines.order_by("position"))
    assert [(row.description, row.quantity, row.net_amount) for row in lines[:3]] == [
        ("Data 0,15", D("1"), D("0.01")), ("Data 0,45", D("29"), D("0.44")), ("SMS-pakke", D("1"), D("0.01"))]
    for row in lines:  # each line: the fee for its days, rounded once, by invoices.pricing
        assert row.net_amount == pricing.prorate(D("0.45") if row.description == "Data 0,45" else D("0.15"),
                                                 november, row.starts_on, row.ends_on)
        assert abs(row.quantity * row.unit_price - row.net_amount) <= D("0.02")  # PEPPOL-EN16931-R120
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (D("1.38"), D("0.35"), D("1.73"))
    assert pricing.totals((row.vat_category, row.vat_rate, row.net_amount) for row in lines) == (
        invoice.net_total, invoice.vat_total, invoice.gross_total)
    assert invoice.lines.aggregate(total=Sum("net_amount"))["total"] == invoice.net_total
    specification = InvoiceSubscriptionTotal.objects.filter(invoice=invoice)
    assert specification.count() == 3 and specification.aggregate(total=Sum("net_amount"))["total"] == D("1.38")
    assert invoice.line_count == 9


def test_a_split_invoice_adds_up_in_its_pdf_and_its_ubl(company, plans, roaming):
    import xml.etree.ElementTree as ET

    from invoices import pdf
    from invoices.documents import invoice_ubl_document
    from invoices.documents_models import InvoiceDocument
    from invoices.peppol.validation import validate_ubl
    from invoices.ubl import build_ubl
    from tests.invoices.documents_helpers import pdf_text, render_now

    account = BillingAccountFactory(company=company, ean="5790000000012", invoice_format="ean")
    line = line_of(account, plans["199"], activated_on=date(2026, 10, 5))
    carried_out(line, "change_plan", date(2026, 10, 11), plan_id=plans["299"].pk)
    carried_out(line, "add_add_on", date(2026, 10, 21), add_on_id=roaming.pk)

    billing_run(period=OCTOBER)

    invoice = Invoice.objects.get()
    assert invoice.net_total == D("38.52") + D("202.55") + D("17.39")  # 199 × 6/31, 299 × 21/31, 49 × 11/31
    pdf_document = InvoiceDocument.objects.get(invoice=invoice, kind="pdf")
    render_now([pdf_document.pk])
    pdf_document.refresh_from_db()
    rows = [" ".join(row.split()) for row in pdf_text(pdf_document.file.open("rb").read(), layout=True).splitlines()]
    money = lambda amount: pdf.format_money(amount, "da")  # noqa: E731
    assert f"Mobil 199 05.10.2026–10.10.2026 {money(D('38.52'))}" in rows
    assert f"Mobil 299 11.10.2026–31.10.2026 {money(D('202.55'))}" in rows
    assert f"Roaming 21.10.2026–31.10.2026 {money(D('17.39'))}" in rows
    text = " ".join(rows)
    assert all(money(amount) in text for amount in (invoice.net_total, invoice.vat_total, invoice.gross_total))

    xml = build_ubl(invoice_ubl_document(invoice))
    report = validate_ubl(xml)
    assert report.ok, [str(finding) for finding in report.fatal]
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
          "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
    root = ET.fromstring(xml)
    line_amounts = [D(el.findtext("cbc:LineExtensionAmount", namespaces=ns)) for el in root.findall("cac:InvoiceLine", ns)]
    assert line_amounts == [D("38.52"), D("202.55"), D("17.39")]
    total = root.find("cac:LegalMonetaryTotal", ns)
    assert D(total.findtext("cbc:TaxExclusiveAmount", namespaces=ns)) == invoice.net_total
    assert D(total.findtext("cbc:PayableAmount", namespaces=ns)) == invoice.gross_total
