"""Prices, pro-rating, usage charges and VAT: the one place the money rules are written down.

The rule (EN 16931 / Peppol BIS 3; /work/shared/peppol/README.txt, "Rounding rules"):

1. Money is ``Decimal``, never float. Every amount that is stated (a line's net amount, a total, a VAT
   amount) has two decimals, rounded half away from zero (``ROUND_HALF_UP``, which is what PostgreSQL's
   ``round(numeric, 2)`` does, so the set-based billing run in SQL and these functions agree to the øre).
   Unit prices and quantities may carry four decimals (a day's price of a pro-rated fee).
2. A line's net amount is rounded once, from the unrounded product: ``round(monthly fee × days /
   days in month)``; for a pro-rated fee the line states quantity = days and unit price = the day's
   price to four decimals, which is within the rules' ±0.02 tolerance of the rounded amount (BT-131).
   A fee is charged for the days the line had it: from its start (or the 1st) to the day before it
   ended (or the last day), and a change of account, price plan or add-on splits the month on the day
   it took effect: one line per part, each with its days and rounded on its own (a plan changed on the
   11th of October: the old plan × 10/31 and the new one × 21/31; a change on the 1st splits nothing).
3. Totals are sums of the stated (rounded) line amounts: net total = Σ line net amounts (BR-CO-10).
4. VAT is computed per VAT category and rate on that category's net total and rounded ONCE
   (BR-CO-17, BR-S-09): ``round(Σ net of the category × rate / 100)``, never summed per line.
   VAT total = Σ of the categories' VAT (BR-CO-14); gross = net total + VAT total (BR-CO-15).
5. A credit note follows the same rules on its own lines, with positive amounts.

Usage beyond a plan's allowance is charged per started GB, per minute and per SMS at the operator's
list rates below (the same figures in DKK and SEK: the catalogue has one price list).
The billing run (``invoices.billing``) implements the same arithmetic in SQL and the tests check the two
agree; the groups' budget estimates are that same calculation, previewed (``billing.billing_preview``).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")

STANDARD_VAT_RATE = Decimal("25")  # Danish and Swedish standard rate, %

DATA_PRICE_PER_GB = Decimal("49.00")
VOICE_PRICE_PER_MINUTE = Decimal("0.49")
SMS_PRICE = Decimal("0.29")
MB_PER_GB = 1024


def money(value) -> Decimal:
    """Round to two decimals, half away from zero (the one rounding used for stated amounts)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def days_in_month(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def monthly_fee(plan_fee: Decimal | None, add_on_fees: Iterable[Decimal] = ()) -> Decimal:
    """A line's monthly fee: its price plan plus its add-on services."""
    return money((plan_fee or Decimal("0")) + sum(add_on_fees, Decimal("0")))


def charged_days(period: date, starts_on: date | None, ends_on: date | None) -> tuple[date, date]:
    """The days of the month ``period`` a line is charged for: from its start (or the 1st) to its end
    (or the last day), both inclusive. The end is before the start when it was not active that month."""
    first = period.replace(day=1)
    last = first.replace(day=days_in_month(first))
    return max(first, starts_on or first), min(last, ends_on or last)


def prorate(fee: Decimal, period: date, starts_on: date | None = None, ends_on: date | None = None) -> Decimal:
    """The monthly ``fee`` for the days of ``period`` charged: round(fee × days / days in month)."""
    start, end = charged_days(period, starts_on, ends_on)
    days = (end - start).days + 1
    if days <= 0:
        return Decimal("0.00")
    return money(Decimal(fee) * days / days_in_month(period))


def fee_quantity_and_price(fee: Decimal, period: date, starts_on: date | None = None,
                           ends_on: date | None = None) -> tuple[Decimal, Decimal]:
    """What a fee line states: (1, fee) for a whole month, (days, the day's price) for part of one."""
    start, end = charged_days(period, starts_on, ends_on)
    days = (end - start).days + 1
    total = days_in_month(period)
    if days >= total:
        return Decimal("1"), Decimal(fee).quantize(PRICE_PLACES)
    return Decimal(days), (Decimal(fee) / total).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UsageCharge:
    what: str  # "data", "voice", "sms"
    quantity: Decimal  # GB started, minutes, messages beyond the allowance
    unit_price: Decimal
    amount: Decimal


def data_gb_beyond(data_mb: int, allowance_gb: int | None) -> int:
    """Started GB beyond an allowance (None: unlimited)."""
    if allowance_gb is None:
        return 0
    beyond_mb = max(0, data_mb - allowance_gb * MB_PER_GB)
    return -(-beyond_mb // MB_PER_GB)


def usage_charges(*, data_mb: int = 0, voice_minutes: int = 0, sms_count: int = 0,
                  data_gb_allowance: int | None = None, voice_allowance: int | None = None,
                  sms_allowance: int | None = None) -> list[UsageCharge]:
    """A period's usage beyond the allowances, as charges (None for an allowance: unlimited)."""
    charges = []
    gigabytes = data_gb_beyond(data_mb, data_gb_allowance)
    if gigabytes:
        charges.append(UsageCharge("data", Decimal(gigabytes), DATA_PRICE_PER_GB,
                                   money(gigabytes * DATA_PRICE_PER_GB)))
    if voice_allowance is not None and voice_minutes > voice_allowance:
        minutes = voice_minutes - voice_allowance
        charges.append(UsageCharge("voice", Decimal(minutes), VOICE_PRICE_PER_MINUTE,
                                   money(minutes * VOICE_PRICE_PER_MINUTE)))
    if sms_allowance is not None and sms_count > sms_allowance:
        messages = sms_count - sms_allowance
        charges.append(UsageCharge("sms", Decimal(messages), SMS_PRICE, money(messages * SMS_PRICE)))
    return charges


@dataclass(frozen=True)
class VatBreakdown:
    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal


def vat_breakdown(lines: Iterable[tuple[str, Decimal, Decimal]]) -> list[VatBreakdown]:
    """VAT per (category, rate) from (category, rate, net amount) lines: the category's net total,
    and its VAT rounded once on that total."""
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(lambda: Decimal("0"))
    for category, rate, net in lines:
        taxable[(category, Decimal(rate))] += Decimal(net)
    return [
        VatBreakdown(category, rate, money(total), money(total * rate / 100) if category == "S" else Decimal("0.00"))
        for (category, rate), total in sorted(taxable.items())
    ]


def totals(lines: Iterable[tuple[str, Decimal, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
    """(net total, VAT total, gross total) of (category, rate, net amount) lines."""
    breakdown = vat_breakdown(lines)
    net = sum((row.taxable for row in breakdown), Decimal("0.00"))
    vat = sum((row.vat for row in breakdown), Decimal("0.00"))
    return net, vat, net + vat


def monthly_estimate(plan_fee: Decimal | None, add_on_fees: Iterable[Decimal] = (),
                     vat_rate: Decimal = STANDARD_VAT_RATE) -> tuple[Decimal, Decimal]:
    """A line's full-month cost (excl., incl. VAT) for budget estimates."""
    net = monthly_fee(plan_fee, add_on_fees)
    return net, net + money(net * vat_rate / 100)
