from datetime import UTC, date, datetime
from unittest import mock

import pytest

from groups.models import Group, GroupCategory


def at(day: date):
    """The clock at noon (UTC) of ``day``: ``timezone.now`` patched, so "this month" is ``day``'s."""
    return mock.patch("django.utils.timezone.now", return_value=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


def make_category(company, name="Cost centre"):
    return GroupCategory.objects.create(company=company, name=name)


def make_group(category, name, **fields):
    return Group.objects.create(company_id=category.company_id, category=category, name=name, **fields)


@pytest.fixture
def cost_centres(company):
    category = make_category(company, "Cost centre")
    return category, make_group(category, "2010"), make_group(category, "2020")


_invoice_numbers = iter(range(900_000, 10_000_000))


def make_invoice(account, period: date, lines: list[tuple]):
    """An invoice of ``account`` for ``period`` with lines (subscription or None, net amount)."""
    from decimal import Decimal

    from invoices.models import Invoice, InvoiceLine

    net = sum((Decimal(amount) for _line, amount in lines), Decimal("0.00"))
    vat = (net * Decimal("0.25")).quantize(Decimal("0.01"))
    number = next(_invoice_numbers)
    invoice = Invoice.objects.create(
        company_id=account.company_id, account=account, period=period, number=number, issue_date=period,
        due_date=period, payment_reference=str(number), currency="DKK", net_total=net, vat_total=vat,
        gross_total=net + vat, line_count=len(lines))
    InvoiceLine.objects.bulk_create([
        InvoiceLine(company_id=account.company_id, invoice=invoice, position=position, subscription=line,
                    employee_name=line.employee_name if line else "", kind="fee", description="Fee",
                    unit_price=Decimal(amount), net_amount=Decimal(amount))
        for position, (line, amount) in enumerate(lines, start=1)
    ])
    return invoice


@pytest.fixture(autouse=True)
def _english():
    """Messages are read in English (the site's default language is Danish)."""
    from django.utils import translation

    with translation.override("en"):
        yield
