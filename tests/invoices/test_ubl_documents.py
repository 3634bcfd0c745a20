"""Every kind of UBL document the portal produces passes the official rules (UBL 2.1 schema when lxml is
there, EN 16931, Peppol BIS 3 with the Danish and Swedish rules), and its amounts are the header's."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.conf import settings

from invoices.documents import (
    credit_note_ubl_document,
    invoice_ubl_document,
    schedule_credit_note_documents,
    schedule_documents,
)
from invoices.documents_models import InvoiceDocument
from invoices.peppol.validation import validate_ubl
from invoices.ubl import TotalsMismatch, build_ubl
from tests.factories import BillingAccountFactory, CompanyFactory, orgnr
from tests.invoices.documents_helpers import credit_note_for, invoice_with, many_lines, render_now, schedule

pytestmark = pytest.mark.django_db

NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
GLN = {"DK": "5790000000012", "SE": "7350000000016"}


def buyer_account(country: str):
    company = (CompanyFactory(country="SE", registration_number=orgnr("202100548"), name="Kund AB", city="Malmö",
                              postal_code="21111")
               if country == "SE" else CompanyFactory(name="Kunde & Søn ApS"))
    return BillingAccountFactory(company=company, ean=GLN[country], invoice_format="ean")


@pytest.fixture
def seller_of(settings):
    """Bill the buyer's country from the operator's company in ``country`` (settings.INVOICE_SELLERS)."""
    def configure(seller_country):
        sellers = dict(settings.INVOICE_SELLERS)
        for buyer_country in ("DK", "SE"):
            sellers[buyer_country] = settings.INVOICE_SELLERS[seller_country]
        settings.INVOICE_SELLERS = sellers
    return configure


def amounts(xml: bytes) -> dict:
    root = ET.fromstring(xml)
    total = root.find("cac:LegalMonetaryTotal", NS)
    return {
        "net": Decimal(total.findtext("cbc:TaxExclusiveAmount", namespaces=NS)),
        "gross": Decimal(total.findtext("cbc:TaxInclusiveAmount", namespaces=NS)),
        "payable": Decimal(total.findtext("cbc:PayableAmount", namespaces=NS)),
        "vat": Decimal(root.find("cac:TaxTotal", NS).findtext("cbc:TaxAmount", namespaces=NS)),
        "lines": sum(Decimal(el.text) for el in root.iter(f"{{{NS['cbc']}}}LineExtensionAmount")) -
        Decimal(total.findtext("cbc:LineExtensionAmount", namespaces=NS)),
    }


def assert_valid(xml: bytes):
    report = validate_ubl(xml)
    assert report.ok, [str(finding) for finding in report.fatal]
    assert report.xsd_checked, "the UBL 2.1 schema was not checked"
    return report


@pytest.mark.parametrize("seller_country", ["DK", "SE"])
@pytest.mark.parametrize("buyer_country", ["DK", "SE"])
def test_invoices_between_danish_and_swedish_sellers_and_buyers_pass_the_rules(seller_of, seller_country,
                                                                               buyer_country):
    seller_of(seller_country)
    invoice = invoice_with(buyer_account(buyer_country))  # with a zero-VAT line (category Z)
    xml = build_ubl(invoice_ubl_document(invoice))
    assert_valid(xml)
    found = amounts(xml)
    assert (found["net"], found["vat"], found["gross"], found["payable"]) == (
        invoice.net_total, invoice.vat_total, invoice.gross_total, invoice.gross_total)
    assert found["lines"] == invoice.net_total  # Σ line amounts = header
    root = ET.fromstring(xml)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer.find("cbc:EndpointID", NS).attrib["schemeID"] == "0088"
    assert buyer.findtext("cbc:EndpointID", namespaces=NS) == GLN[buyer_country]
    categories = {el.findtext("cbc:ID", namespaces=NS)
                  for el in root.findall("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)}
    assert categories == {"S", "Z"}
    payment_ids = [el.text for el in root.iter(f"{{{NS['cbc']}}}PaymentID")]
    digits = "".join(ch for ch in invoice.payment_reference if ch.isdigit())
    assert len(payment_ids) == 1 and digits in payment_ids[0]


@pytest.mark.parametrize("country", ["DK", "SE"])
def test_credit_notes_pass_the_rules_and_state_the_credited_amounts(country):
    invoice = invoice_with(buyer_account(country))
    note = credit_note_for(invoice, lines=list(invoice.lines.filter(position__in=[2, 4, 5])))
    xml = build_ubl(credit_note_ubl_document(note))
    assert ET.fromstring(xml).tag.endswith("CreditNote")
    assert_valid(xml)
    found = amounts(xml)
    assert (found["net"], found["vat"], found["payable"]) == (note.net_total, note.vat_total, note.gross_total)
    assert ET.fromstring(xml).find("cac:BillingReference/cac:InvoiceDocumentReference", NS).findtext(
        "cbc:ID", namespaces=NS) == str(invoice.number)


def test_an_invoice_of_50000_lines_passes_the_rules(db):
    invoice = invoice_with(buyer_account("DK"), lines=many_lines(50_000))
    xml = build_ubl(invoice_ubl_document(invoice))
    assert xml.count(b"<cac:InvoiceLine>") == 50_000
    assert_valid(xml)
    assert amounts(xml)["gross"] == invoice.gross_total


def test_lines_that_miss_the_header_by_one_ore_make_no_document(db):
    invoice = invoice_with(buyer_account("DK"))
    invoice.vat_total += Decimal("0.01")
    invoice.gross_total += Decimal("0.01")
    with pytest.raises(TotalsMismatch):
        build_ubl(invoice_ubl_document(invoice))


def test_the_worker_makes_the_ubl_of_an_ean_account_and_of_its_credit_note(db):
    invoice = invoice_with(buyer_account("DK"))
    render_now(schedule(schedule_documents, [invoice.pk]))
    ubl = InvoiceDocument.objects.get(invoice=invoice, credit_note=None, kind="ubl")
    assert ubl.is_ready
    assert_valid(ubl.file.open("rb").read())
    note = credit_note_for(invoice)
    render_now(schedule(schedule_credit_note_documents, [note.pk]))
    note_ubl = InvoiceDocument.objects.get(credit_note=note, kind="ubl")
    assert_valid(note_ubl.file.open("rb").read())
    # Only EAN accounts get UBL documents.
    plain = invoice_with(BillingAccountFactory(company=invoice.company))
    schedule(schedule_documents, [plain.pk])
    assert list(InvoiceDocument.objects.filter(invoice=plain).values_list("kind", flat=True)) == ["pdf"]
    assert settings.INVOICE_SELLERS["DK"]["country"] == "DK"
