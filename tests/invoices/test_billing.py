"""The billing run: pro-rating, VAT, rounding, one-off charges once, idempotency, gapless numbers."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from invoices import pricing
from invoices.billing import billing_run
from invoices.models import Invoice, InvoiceLine, NumberSequence, UsagePool, UsagePoolMember
from invoices.references import fik71_is_valid, ocr_is_valid
from orders.models import Order
from subscriptions.models import SubscriptionEvent, UsageRecord
from tests.factories import AddOnFactory, BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 1)  # 31 days
TZ = ZoneInfo("Europe/Copenhagen")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=TZ)


@pytest.fixture
def plan():
    return PricePlanFactory(code="bill-199", name="Mobil 199", monthly_fee=Decimal("199.00"), data_gb=10,
                            voice_minutes=100, sms_count=None)


def subscription(account, plan, **fields):
    return SubscriptionFactory(company=account.company, account=account, plan=plan,
                               activated_on=fields.pop("activated_on", date(2025, 1, 1)), **fields)


def test_full_month_fee_add_on_and_vat(account, plan):
    line = subscription(account, plan)
    line.add_ons.add(AddOnFactory(code="bill-roam", name="Roaming", monthly_fee=Decimal("49.00")))

    result = billing_run(period=OCTOBER, issue_date=date(2026, 11, 1))

    invoice = Invoice.objects.get(account=account, period=OCTOBER)
    assert result.invoices == 1
    fees = {row.kind: row for row in invoice.lines.all()}
    assert fees["fee"].net_amount == Decimal("199.00") and fees["fee"].quantity == 1
    assert fees["add_on"].net_amount == Decimal("49.00")
    assert invoice.net_total == Decimal("248.00")
    assert invoice.vat_total == Decimal("62.00")
    assert invoice.gross_total == Decimal("310.00")
    assert invoice.currency == "DKK" and invoice.due_date == date(2026, 12, 1)
    assert fik71_is_valid(invoice.payment_reference)
    assert invoice.line_count == 2


def test_started_mid_month_is_pro_rated_by_days(account, plan):
    subscription(account, plan, activated_on=date(2026, 10, 17))  # 15 of 31 days

    billing_run(period=OCTOBER)

    line = InvoiceLine.objects.get(invoice__account=account)
    assert line.net_amount == pricing.prorate(Decimal("199.00"), OCTOBER, date(2026, 10, 17)) == Decimal("96.29")
    assert (line.quantity, line.unit_price) == (Decimal("15"), Decimal("6.4194"))
    assert abs(line.quantity * line.unit_price - line.net_amount) <= Decimal("0.02")  # PEPPOL-EN16931-R120
    assert (line.starts_on, line.ends_on) == (date(2026, 10, 17), date(2026, 10, 31))


def test_cancelled_mid_month_is_charged_to_the_day_before(account, plan):
    line = subscription(account, plan, status="terminated")
    event = SubscriptionEvent.objects.create(company=account.company, subscription=line, action="cancel")
    SubscriptionEvent.objects.filter(pk=event.pk).update(at=at(date(2026, 10, 11)))

    billing_run(period=OCTOBER)

    charged = InvoiceLine.objects.get(invoice__account=account)
    assert (charged.starts_on, charged.ends_on) == (date(2026, 10, 1), date(2026, 10, 10))
    assert charged.net_amount == Decimal("64.19")  # 199 × 10 / 31 = 64.193…


def test_cancelled_before_the_month_and_terminated_without_history_are_not_charged(account, plan):
    old = subscription(account, plan, status="terminated")
    event = SubscriptionEvent.objects.create(company=account.company, subscription=old, action="cancel")
    SubscriptionEvent.objects.filter(pk=event.pk).update(at=at(date(2026, 9, 30)))
    subscription(account, plan, status="terminated")
    subscription(account, plan, activated_on=date(2026, 11, 2))

    assert billing_run(period=OCTOBER).invoices == 0
    assert not Invoice.objects.exists()


def test_moved_mid_month_is_split_between_the_accounts(company, plan):
    first, second = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    line = subscription(second, plan)
    event = SubscriptionEvent.objects.create(company=company, subscription=line, action="move_account",
                                             before={"account": first.number}, after={"account": second.number})
    SubscriptionEvent.objects.filter(pk=event.pk).update(at=at(date(2026, 10, 21)))

    billing_run(period=OCTOBER)

    on_first = InvoiceLine.objects.get(invoice__account=first)
    on_second = InvoiceLine.objects.get(invoice__account=second)
    assert (on_first.starts_on, on_first.ends_on) == (date(2026, 10, 1), date(2026, 10, 20))
    assert (on_second.starts_on, on_second.ends_on) == (date(2026, 10, 21), date(2026, 10, 31))
    assert on_first.net_amount == Decimal("128.39") and on_second.net_amount == Decimal("70.61")


def test_moved_after_the_month_is_charged_to_the_account_it_was_on(company, plan):
    first, second = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    line = subscription(second, plan)
    event = SubscriptionEvent.objects.create(company=company, subscription=line, action="move_account",
                                             before={"account": first.number}, after={"account": second.number})
    SubscriptionEvent.objects.filter(pk=event.pk).update(at=at(date(2026, 11, 5)))

    billing_run(period=OCTOBER)

    assert InvoiceLine.objects.get().invoice.account == first


def test_usage_beyond_the_allowance_and_a_shared_pool(account, plan):
    heavy = subscription(account, plan)
    UsageRecord.objects.create(company=account.company, subscription=heavy, period=OCTOBER,
                               data_mb=10 * 1024 + 1, voice_minutes=130, sms_count=500)
    pooled = [subscription(account, plan) for _ in range(2)]
    pool = UsagePool.objects.create(company=account.company, account=account, name="Fælles data", data_gb=5)
    for member in pooled:
        UsagePoolMember.objects.create(company=account.company, pool=pool, subscription=member)
        UsageRecord.objects.create(company=account.company, subscription=member, period=OCTOBER, data_mb=3 * 1024)

    billing_run(period=OCTOBER)

    usage = InvoiceLine.objects.filter(kind="usage")
    own = {row.description: row for row in usage.filter(subscription=heavy)}
    assert {row.quantity for row in own.values()} == {Decimal("1"), Decimal("30")}  # 1 GB started, 30 minutes
    assert sum(row.net_amount for row in own.values()) == Decimal("49.00") + Decimal("14.70")
    pool_line = usage.get(usage_pool=pool)
    assert pool_line.quantity == 1 and pool_line.net_amount == Decimal("49.00")  # 6 GB on a 5 GB pool
    assert not usage.filter(subscription__in=pooled).exists()  # their data draws on the pool


def test_completed_orders_are_charged_once(account, plan):
    order = OrderFactory(company=account.company, account=account, quantity=3, unit_price=Decimal("49.95"),
                         status=Order.Status.COMPLETED)
    Order.objects.filter(pk=order.pk).update(status_changed_at=at(date(2026, 10, 5)))
    OrderFactory(company=account.company, account=account, status=Order.Status.SHIPPED)

    billing_run(period=OCTOBER)
    billing_run(period=date(2026, 11, 1))

    charged = InvoiceLine.objects.filter(kind="one_off")
    assert charged.count() == 1
    assert charged.get().net_amount == Decimal("149.85") and charged.get().invoice.period == OCTOBER


def test_vat_is_computed_on_the_total_and_rounded_once(account):
    # Three pro-rated lines of 0.0x each: per-line VAT would round three times.
    cheap = PricePlanFactory(code="bill-cheap", name="Data 1", monthly_fee=Decimal("1.00"), data_gb=None)
    for _ in range(3):
        subscription(account, cheap, activated_on=date(2026, 10, 30))  # 2/31 of 1.00 = 0.06

    billing_run(period=OCTOBER)

    invoice = Invoice.objects.get()
    assert invoice.net_total == Decimal("0.18")
    assert invoice.vat_total == Decimal("0.05")  # round(0.18 × 25 %) = 0.045 → 0.05; per line 3 × 0.02 = 0.06
    assert pricing.totals([("S", Decimal("25"), Decimal("0.06"))] * 3) == (
        Decimal("0.18"), Decimal("0.05"), Decimal("0.23"))


def test_lines_add_up_to_the_header(account, plan):
    for day in (1, 5, 9, 13, 29):
        subscription(account, plan, activated_on=date(2026, 10, day))

    billing_run(period=OCTOBER)

    invoice = Invoice.objects.get()
    lines = invoice.lines.all()
    assert lines.aggregate(total=Sum("net_amount"))["total"] == invoice.net_total
    net, vat, gross = pricing.totals((row.vat_category, row.vat_rate, row.net_amount) for row in lines)
    assert (net, vat, gross) == (invoice.net_total, invoice.vat_total, invoice.gross_total)
    assert [row.position for row in lines.order_by("position")] == list(range(1, 6))


def test_running_the_month_twice_issues_nothing_new(account, plan):
    subscription(account, plan)
    first = billing_run(period=OCTOBER)
    last_number = NumberSequence.objects.get(name="invoice").last_number

    again = billing_run(period=OCTOBER)

    assert (first.invoices, again.invoices) == (1, 0)
    assert Invoice.objects.count() == 1
    assert NumberSequence.objects.get(name="invoice").last_number == last_number


def test_numbers_are_sequential_across_accounts_and_swedish_references_are_ocr(plan):
    swedish = CompanyFactory(country="SE", registration_number="5560360793")
    accounts = [BillingAccountFactory(company=swedish) for _ in range(3)]
    for account in accounts:
        subscription(account, plan)
    start = NumberSequence.objects.get(name="invoice").last_number

    billing_run(period=OCTOBER)

    invoices = list(Invoice.objects.order_by("number"))
    assert [i.number for i in invoices] == [start + 1, start + 2, start + 3]
    assert all(i.currency == "SEK" and ocr_is_valid(i.payment_reference) for i in invoices)


def test_charges_per_subscription_add_up_to_the_lines(account, plan):
    from invoices.models import InvoiceSubscriptionTotal

    for _ in range(3):
        line = subscription(account, plan)
        line.add_ons.add(AddOnFactory(code="bill-vm", name="Voicemail", monthly_fee=Decimal("10.00")))
    order = OrderFactory(company=account.company, account=account, subscription=None, employee_name="Ny Medarbejder",
                         status=Order.Status.COMPLETED)
    Order.objects.filter(pk=order.pk).update(status_changed_at=at(date(2026, 10, 5)))

    billing_run(period=OCTOBER)

    invoice = Invoice.objects.get()
    totals = InvoiceSubscriptionTotal.objects.filter(invoice=invoice)
    assert totals.count() == 4  # three subscriptions and the new user's order
    assert totals.aggregate(total=Sum("net_amount"))["total"] == invoice.net_total
    assert sum(t.line_count for t in totals) == invoice.line_count == 7
