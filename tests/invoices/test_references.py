"""Payment references against published examples, and the money rule's functions."""

from datetime import date
from decimal import Decimal

from invoices import pricing
from invoices.references import fik71_is_valid, fik71_payment_id, ocr_is_valid, ocr_reference


def test_fik71_payment_ids_match_published_examples():
    # Uniconta's FIK example "+71< 004040400000669+12345678<": payment ID 00404040000066 + check digit 9.
    assert fik71_is_valid("004040400000669")
    assert not fik71_is_valid("004040400000668")
    # giro-kort.dk's example: payment ID "2" gets check digit 6.
    assert fik71_payment_id(2) == "000000000000026"
    assert len(fik71_payment_id(123456)) == 15 and fik71_is_valid(fik71_payment_id(123456))


def test_ocr_references_have_a_length_digit_and_a_luhn_check_digit():
    # The Luhn example published everywhere: 7992739871 takes check digit 3.
    from stdnum import luhn

    assert luhn.calc_check_digit("7992739871") == "3"
    reference = ocr_reference(12345)
    assert reference[:5] == "12345" and reference[5] == "7"  # 7 digits in all, with length and check digit
    assert ocr_is_valid(reference)
    assert not ocr_is_valid(reference[:-1] + str((int(reference[-1]) + 1) % 10))
    assert not ocr_is_valid("12345" + "8" + luhn.calc_check_digit("123458"))  # wrong length digit


def test_pricing_rounds_once_and_pro_rates_by_days():
    october = date(2026, 10, 1)
    assert pricing.prorate(Decimal("199.00"), october, date(2026, 10, 17)) == Decimal("96.29")
    assert pricing.prorate(Decimal("199.00"), october) == Decimal("199.00")
    assert pricing.prorate(Decimal("199.00"), october, date(2026, 11, 1)) == Decimal("0.00")
    assert pricing.fee_quantity_and_price(Decimal("199.00"), october, date(2026, 10, 17)) == (
        Decimal("15"), Decimal("6.4194"))
    assert pricing.monthly_fee(Decimal("149.00"), [Decimal("49.00"), Decimal("10.00")]) == Decimal("208.00")
    assert pricing.monthly_estimate(Decimal("100.00")) == (Decimal("100.00"), Decimal("125.00"))
    assert pricing.money(Decimal("0.045")) == Decimal("0.05") and pricing.money(Decimal("-0.045")) == Decimal("-0.05")


def test_usage_charges_beyond_the_allowances():
    charges = pricing.usage_charges(data_mb=12 * 1024 + 1, voice_minutes=110, sms_count=3, data_gb_allowance=10,
                                    voice_allowance=100, sms_allowance=None)
    assert [(c.what, c.quantity, c.amount) for c in charges] == [
        ("data", Decimal("3"), Decimal("147.00")), ("voice", Decimal("10"), Decimal("4.90"))]
    assert pricing.usage_charges(data_mb=10**9, data_gb_allowance=None) == []


def test_vat_per_category_is_rounded_on_the_category_total():
    lines = [("S", Decimal("25"), Decimal("0.06"))] * 3 + [("Z", Decimal("0"), Decimal("10.00"))]
    breakdown = pricing.vat_breakdown(lines)
    assert [(row.category, row.taxable, row.vat) for row in breakdown] == [
        ("S", Decimal("0.18"), Decimal("0.05")), ("Z", Decimal("10.00"), Decimal("0.00"))]
    assert pricing.totals(lines) == (Decimal("10.18"), Decimal("0.05"), Decimal("10.23"))
