"""Payment references with a check digit, by the invoice's country.

- Denmark: the payment ID of an FI-kort of card type 71 ("+71<…+creditor<"): 15 digits, the invoice
  number padded to 14 and a modulus-10 check digit (weights 2, 1, 2, 1 … from the right, digit sums:
  the Luhn computation). Checked against published examples (tests/invoices/test_references.py).
- Sweden: an OCR reference at Bankgirot's "hard" check level: the invoice number, a length digit
  (the reference's whole length, check digit included, modulo 10) and a Luhn check digit.

python-stdnum has neither scheme as such (only ``stdnum.luhn``), so the schemes are built on it.
"""

from stdnum import luhn

FIK_CARD_TYPE = "71"
FIK_PAYMENT_ID_LENGTH = 15


def fik71_payment_id(number: int) -> str:
    body = f"{number:0{FIK_PAYMENT_ID_LENGTH - 1}d}"
    if len(body) != FIK_PAYMENT_ID_LENGTH - 1:
        raise ValueError("the invoice number is too long for an FI-kort 71 payment ID")
    return body + luhn.calc_check_digit(body)


def fik71_is_valid(payment_id: str) -> bool:
    return len(payment_id) == FIK_PAYMENT_ID_LENGTH and payment_id.isdigit() and luhn.is_valid(payment_id)


def ocr_reference(number: int) -> str:
    body = str(number)
    length_digit = str((len(body) + 2) % 10)
    return body + length_digit + luhn.calc_check_digit(body + length_digit)


def ocr_is_valid(reference: str) -> bool:
    if not (2 <= len(reference) <= 25 and reference.isdigit() and luhn.is_valid(reference)):
        return False
    return int(reference[-2]) == len(reference) % 10


def payment_reference(number: int, country: str) -> str:
    return ocr_reference(number) if country == "SE" else fik71_payment_id(number)
