"""Peppol BIS Billing 3.0 UBL Invoices and CreditNotes.

The builder works on plain data (``BillingDocument``: seller, buyer, lines and the header's totals)
so the same code serves an invoice, a credit note and the tests; ``invoices.documents`` fills it from
the models. The document is written as text chunks in the order the UBL 2.1 schema requires, so a
50,000-line invoice never becomes a tree in memory.

The amounts are not recomputed for the header: the VAT breakdown is made per category (the lines'
net amounts summed, the VAT of that total rounded once, as EN 16931 BR-CO-17 requires) and checked
against the stored header; a difference of one øre raises ``TotalsMismatch`` and no document is
produced. Country rules (notes in invoices/peppol/README.md and the rules' DK-R-*/SE-R-*):
a Danish seller is identified by its CVR (scheme 0184) and, to a Danish buyer, is paid by FIK card
type 71 (payment means 93) or a bank transfer (31); a Swedish seller by its organisation number
(scheme 0007), VAT number "SE" + 12 digits, "Godkänd för F-skatt", and is paid by Bankgiro (30).
The buyer is addressed by its EAN/GLN (scheme 0088).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape, quoteattr

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CENT = Decimal("0.01")

SCHEME_GLN = "0088"
SCHEME_DK_CVR = "0184"
SCHEME_SE_ORGNR = "0007"


class TotalsMismatch(ValueError):
    """The lines do not add up to the header: the document would be wrong, so none is made."""


def round_money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Party:
    name: str
    country: str  # DK | SE
    registration_number: str  # CVR (8 digits) or organisation number (10 digits)
    street: str = ""
    city: str = ""
    postal_code: str = ""
    vat_number: str = ""  # "DK12345678", "SE556036079301"; derived from the registration number when empty
    ean: str = ""  # GLN, 13 digits: the Peppol endpoint
    email: str = ""

    @property
    def legal_scheme(self) -> str:
        return SCHEME_SE_ORGNR if self.country == "SE" else SCHEME_DK_CVR

    @property
    def legal_id(self) -> str:
        return "".join(ch for ch in self.registration_number if ch.isdigit())

    @property
    def vat_id(self) -> str:
        if self.vat_number:
            return self.vat_number
        return f"SE{self.legal_id}01" if self.country == "SE" else f"DK{self.legal_id}"

    @property
    def endpoint(self) -> tuple[str, str]:
        if self.ean:
            return SCHEME_GLN, self.ean
        return self.legal_scheme, self.legal_id


@dataclass(frozen=True)
class PaymentAccount:
    """The seller's ways to be paid (settings.INVOICE_SELLERS)."""

    iban: str = ""
    bic: str = ""
    bank_registration: str = ""  # Danish reg. no. (4 digits) and account for a domestic transfer
    bank_account: str = ""
    fik_creditor: str = ""  # Danish FI creditor number (8 digits): FIK card type 71
    bankgiro: str = ""  # Swedish Bankgiro (7-8 digits)


@dataclass(frozen=True)
class Line:
    number: int
    name: str
    net_amount: Decimal
    vat_rate: Decimal
    vat_category: str = "S"  # S standard, Z zero-rated, E exempt
    description: str = ""
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None  # the stored price (4 decimals); derived from the amount when None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class VatBreakdown:
    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass
class BillingDocument:
    kind: str  # "invoice" | "credit_note"
    number: str
    issue_date: date
    currency: str
    seller: Party
    buyer: Party
    payment: PaymentAccount
    lines: Iterable[Line]
    # The stored header: the document is refused unless the lines add up to it exactly.
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    due_date: date | None = None
    payment_reference: str = ""
    buyer_reference: str = ""  # the account number: Peppol needs a buyer reference or an order reference
    period_start: date | None = None
    period_end: date | None = None
    invoice_number: str = ""  # a credit note: the invoice it corrects
    invoice_issue_date: date | None = None
    note: str = ""
    vat_exemption_reason: str = "Exempt from VAT"
    # Filled while writing
    breakdown: list[VatBreakdown] = field(default_factory=list)


def vat_breakdown(lines: Iterable[Line]) -> list[VatBreakdown]:
    """VAT per category and rate, by the one money rule (``invoices.pricing.vat_breakdown``: computed on
    the category's total, rounded once, EN 16931 BR-CO-17)."""
    from invoices.pricing import vat_breakdown as money_rule

    return [VatBreakdown(row.category, row.rate, row.taxable, row.vat)
            for row in money_rule((line.vat_category, line.vat_rate, line.net_amount) for line in lines)]


def _money(amount: Decimal) -> str:
    return f"{round_money(amount):.2f}"


def _rate(rate: Decimal) -> str:
    return f"{Decimal(rate).normalize():f}" if rate else "0"


def _el(tag: str, value, **attributes) -> str:
    attrs = "".join(f" {name}={quoteattr(str(val))}" for name, val in attributes.items() if val != "")
    return f"<{tag}{attrs}>{escape(str(value))}</{tag}>"


def _tax_category(tag: str, category: str, rate: Decimal, exemption_reason: str = "") -> str:
    reason = _el("cbc:TaxExemptionReason", exemption_reason) if category == "E" and exemption_reason else ""
    return (f"<{tag}>{_el('cbc:ID', category)}{_el('cbc:Percent', _rate(rate))}{reason}"
            f"<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></{tag}>")


def _party(party: Party, *, seller: bool) -> str:
    scheme, endpoint = party.endpoint
    parts = [_el("cbc:EndpointID", endpoint, schemeID=scheme)]
    if party.ean:
        identification = _el("cbc:ID", party.ean, schemeID=SCHEME_GLN)
        parts.append(f"<cac:PartyIdentification>{identification}</cac:PartyIdentification>")
    parts.append(f"<cac:PartyName>{_el('cbc:Name', party.name)}</cac:PartyName>")
    address = [_el("cbc:StreetName", party.street) if party.street else "",
               _el("cbc:CityName", party.city) if party.city else "",
               _el("cbc:PostalZone", party.postal_code) if party.postal_code else ""]
    parts.append(f"<cac:PostalAddress>{''.join(address)}"
                 f"<cac:Country>{_el('cbc:IdentificationCode', party.country)}</cac:Country></cac:PostalAddress>")
    parts.append(f"<cac:PartyTaxScheme>{_el('cbc:CompanyID', party.vat_id)}"
                 "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>")
    if seller and party.country == "SE":
        # SE-R-005: the seller's F-tax approval, as a tax scheme other than VAT
        parts.append("<cac:PartyTaxScheme><cbc:CompanyID>Godkänd för F-skatt</cbc:CompanyID>"
                     "<cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>")
    parts.append(f"<cac:PartyLegalEntity>{_el('cbc:RegistrationName', party.name)}"
                 f"{_el('cbc:CompanyID', party.legal_id, schemeID=party.legal_scheme)}</cac:PartyLegalEntity>")
    if party.email:
        parts.append(f"<cac:Contact>{_el('cbc:ElectronicMail', party.email)}</cac:Contact>")
    return f"<cac:Party>{''.join(parts)}</cac:Party>"


def _fik_payment_id(reference: str) -> str:
    digits = "".join(ch for ch in reference if ch.isdigit())
    return f"71#{digits}" if len(digits) in (15, 16) else ""


def _payment_means(document: BillingDocument) -> str:
    seller, payment = document.seller, document.payment
    reference = document.payment_reference
    due = _el("cbc:PaymentDueDate", document.due_date.isoformat()) if (
        document.kind == "credit_note" and document.due_date) else ""
    if seller.country == "SE":
        account = f"<cac:PayeeFinancialAccount>{_el('cbc:ID', payment.bankgiro)}" \
                  "<cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>" \
                  "</cac:PayeeFinancialAccount>"
        payment_id = _el("cbc:PaymentID", reference) if reference else ""
        return (f"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>{due}{payment_id}{account}"
                "</cac:PaymentMeans>")
    fik = _fik_payment_id(reference)
    if fik and payment.fik_creditor:
        return (f"<cac:PaymentMeans><cbc:PaymentMeansCode>93</cbc:PaymentMeansCode>{due}{_el('cbc:PaymentID', fik)}"
                f"<cac:PayeeFinancialAccount>{_el('cbc:ID', payment.fik_creditor)}</cac:PayeeFinancialAccount>"
                "</cac:PaymentMeans>")
    # A bank transfer: IBAN and BIC, or the Danish account with its registration number (DK-R-006).
    account_id = payment.iban or payment.bank_account
    branch = payment.bic or payment.bank_registration
    payment_id = _el("cbc:PaymentID", reference) if reference else ""
    return (f"<cac:PaymentMeans><cbc:PaymentMeansCode>31"
            f"</cbc:PaymentMeansCode>{due}{payment_id}<cac:PayeeFinancialAccount>{_el('cbc:ID', account_id)}"
            f"<cac:FinancialInstitutionBranch>{_el('cbc:ID', branch)}</cac:FinancialInstitutionBranch>"
            "</cac:PayeeFinancialAccount></cac:PaymentMeans>")


def _line(document: BillingDocument, line: Line) -> str:
    currency = document.currency
    amount = round_money(line.net_amount)
    quantity = Decimal(line.quantity) or Decimal(1)
    # BR-27: a price is never negative; a negative line (a discount, a credit) has a negative quantity.
    if amount < 0 and quantity > 0:
        quantity = -quantity
    if line.unit_price is not None:
        price = Decimal(line.unit_price)
        if price < 0:
            price, quantity = -price, -quantity
    else:
        price = (amount / quantity) if quantity else amount
    price = price.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    if price * quantity - amount > Decimal("0.02") or amount - price * quantity > Decimal("0.02"):
        quantity, price = (Decimal(-1) if amount < 0 else Decimal(1)), abs(amount)
    tag, quantity_tag = ("cac:CreditNoteLine", "cbc:CreditedQuantity") if document.kind == "credit_note" else (
        "cac:InvoiceLine", "cbc:InvoicedQuantity")
    period = ""
    if line.period_start and line.period_end:
        period = (f"<cac:InvoicePeriod>{_el('cbc:StartDate', line.period_start.isoformat())}"
                  f"{_el('cbc:EndDate', line.period_end.isoformat())}</cac:InvoicePeriod>")
    description = _el("cbc:Description", line.description) if line.description else ""
    return (
        f"<{tag}>{_el('cbc:ID', line.number)}{_el(quantity_tag, f'{quantity.normalize():f}', unitCode='C62')}"
        f"{_el('cbc:LineExtensionAmount', _money(amount), currencyID=currency)}{period}"
        f"<cac:Item>{description}{_el('cbc:Name', line.name[:200] or '-')}"
        f"{_tax_category('cac:ClassifiedTaxCategory', line.vat_category, line.vat_rate, document.vat_exemption_reason)}"
        f"</cac:Item><cac:Price>{_el('cbc:PriceAmount', f'{price:f}', currencyID=currency)}</cac:Price></{tag}>"
    )


def ubl_chunks(document: BillingDocument, lines: list[Line] | None = None) -> Iterator[str]:
    """The document's text in pieces. ``lines`` is the lines as a list (read twice: totals, then lines)."""
    lines = list(document.lines) if lines is None else lines
    breakdown = vat_breakdown(lines)
    document.breakdown = breakdown
    net = sum((item.taxable for item in breakdown), Decimal("0.00"))
    vat = sum((item.tax for item in breakdown), Decimal("0.00"))
    header = (round_money(document.net_total), round_money(document.vat_total), round_money(document.total))
    if (net, vat, net + vat) != header:
        raise TotalsMismatch(
            f"{document.kind} {document.number}: lines give net {net}, VAT {vat}, total {net + vat}; "
            f"the header says net {header[0]}, VAT {header[1]}, total {header[2]}"
        )
    currency = document.currency
    credit_note = document.kind == "credit_note"
    root = "CreditNote" if credit_note else "Invoice"
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
           'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
           'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">')
    head = [_el("cbc:CustomizationID", CUSTOMIZATION_ID), _el("cbc:ProfileID", PROFILE_ID),
            _el("cbc:ID", document.number), _el("cbc:IssueDate", document.issue_date.isoformat())]
    if credit_note:
        head.append("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>")
    else:
        if document.due_date:
            head.append(_el("cbc:DueDate", document.due_date.isoformat()))
        head.append("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>")
    if document.note:
        head.append(_el("cbc:Note", document.note))
    head.append(_el("cbc:DocumentCurrencyCode", currency))
    head.append(_el("cbc:BuyerReference", document.buyer_reference or document.number))
    if document.period_start and document.period_end:
        head.append(f"<cac:InvoicePeriod>{_el('cbc:StartDate', document.period_start.isoformat())}"
                    f"{_el('cbc:EndDate', document.period_end.isoformat())}</cac:InvoicePeriod>")
    if credit_note and document.invoice_number:
        issued = _el("cbc:IssueDate", document.invoice_issue_date.isoformat()) if document.invoice_issue_date else ""
        head.append(f"<cac:BillingReference><cac:InvoiceDocumentReference>{_el('cbc:ID', document.invoice_number)}"
                    f"{issued}</cac:InvoiceDocumentReference></cac:BillingReference>")
    head.append(f"<cac:AccountingSupplierParty>{_party(document.seller, seller=True)}</cac:AccountingSupplierParty>")
    head.append(f"<cac:AccountingCustomerParty>{_party(document.buyer, seller=False)}</cac:AccountingCustomerParty>")
    head.append(_payment_means(document))
    subtotals = "".join(
        f"<cac:TaxSubtotal>{_el('cbc:TaxableAmount', _money(item.taxable), currencyID=currency)}"
        f"{_el('cbc:TaxAmount', _money(item.tax), currencyID=currency)}"
        f"{_tax_category('cac:TaxCategory', item.category, item.rate, document.vat_exemption_reason)}</cac:TaxSubtotal>"
        for item in breakdown
    )
    head.append(f"<cac:TaxTotal>{_el('cbc:TaxAmount', _money(vat), currencyID=currency)}{subtotals}</cac:TaxTotal>")
    head.append(
        f"<cac:LegalMonetaryTotal>{_el('cbc:LineExtensionAmount', _money(net), currencyID=currency)}"
        f"{_el('cbc:TaxExclusiveAmount', _money(net), currencyID=currency)}"
        f"{_el('cbc:TaxInclusiveAmount', _money(net + vat), currencyID=currency)}"
        f"{_el('cbc:PayableAmount', _money(net + vat), currencyID=currency)}</cac:LegalMonetaryTotal>"
    )
    yield "".join(head)
    batch = []
    for line in lines:
        batch.append(_line(document, line))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    yield "".join(batch)
    yield f"</{root}>\n"


def build_ubl(document: BillingDocument) -> bytes:
    """The whole document as UTF-8 bytes (raises TotalsMismatch when the lines miss the header)."""
    return "".join(ubl_chunks(document)).encode("utf-8")
