"""Invoice rows for tests of the pages (the billing run makes real ones in test_billing.py)."""

from datetime import date, timedelta
from decimal import Decimal

import factory

from invoices.models import CreditNote, Invoice, InvoiceLine
from invoices.references import payment_reference
from tests.factories import BillingAccountFactory


def free_period(account, latest=date(2026, 10, 1)) -> date:
    """The latest month up to ``latest`` without an invoice of ``account`` (one invoice per account and month)."""
    taken = set(Invoice.objects.filter(account=account).values_list("period", flat=True)) if account.pk else set()
    period = latest
    while period in taken:
        period = (period - timedelta(days=1)).replace(day=1)
    return period


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    account = factory.SubFactory(BillingAccountFactory)
    company = factory.SelfAttribute("account.company")
    period = factory.LazyAttribute(lambda o: free_period(o.account))
    number = factory.Sequence(lambda n: 900_000 + n)
    issue_date = date(2026, 11, 1)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + timedelta(days=30))
    payment_reference = factory.LazyAttribute(lambda o: payment_reference(o.number, o.company.country))
    currency = "DKK"
    net_total = Decimal("100.00")
    vat_total = Decimal("25.00")
    gross_total = Decimal("125.00")
    line_count = 0


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    company = factory.SelfAttribute("invoice.company")
    position = factory.Sequence(lambda n: n + 1)
    employee_name = "Anna Hansen"
    subscription_number = "+45 20000000"
    kind = InvoiceLine.Kind.SUBSCRIPTION_FEE
    description = "Mobil Fri 50 GB"
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    net_amount = Decimal("100.00")


def invoice_with_lines(*, account, lines: int = 1, period=None, **fields) -> Invoice:
    """An invoice of ``lines`` fee lines of 100.00 each, with its totals (in a month the account has none)."""
    period = period or free_period(account)
    net = Decimal("100.00") * lines
    invoice = InvoiceFactory(account=account, company=account.company, period=period, net_total=net,
                             vat_total=net / 4, gross_total=net + net / 4, line_count=lines, **fields)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(company=account.company, invoice=invoice, position=index + 1, employee_name=f"Employee {index:05d}",
                    subscription_number=f"+45 2{index:07d}", kind="fee", description="Mobil Fri 50 GB",
                    quantity=Decimal("1"), unit_price=Decimal("100.00"), net_amount=Decimal("100.00"))
        for index in range(lines)
    ])
    return invoice


__all__ = ["CreditNote", "InvoiceFactory", "InvoiceLineFactory", "invoice_with_lines"]


def back_office_rows(company, account) -> dict:
    """A real row of each invoices model the back office shows (tests/test_safe_methods.py)."""
    from invoices.models import UsagePool

    invoice = invoice_with_lines(account=account, lines=2)
    note = CreditNote.objects.create(company=company, invoice=invoice, number=invoice.number,
                                     issue_date=date(2026, 11, 5),
                                     reason="Fejl", currency="DKK", net_total=Decimal("100.00"),
                                     vat_total=Decimal("25.00"), gross_total=Decimal("125.00"))
    return {
        "invoice": invoice, "creditnote": note,
        "usagepool": UsagePool.objects.create(company=company, account=account, name="Pulje", data_gb=10),
    }
