"""Invoices with mixed lines, credit notes and their documents, for the documents tests."""

import subprocess
import tempfile
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction

from invoices import pricing
from invoices.documents import credit_note_version, document_render, invoice_version
from invoices.documents_models import InvoiceDocument
from invoices.models import CreditNote, CreditNoteLine, InvoiceLine
from tests.invoices.factories import InvoiceFactory

# (employee, number, description, net amount, VAT category, VAT rate): amounts chosen so that VAT per
# line summed (0.2475 × 3 → 0.75) differs from VAT on the category total (2.97 × 25 % = 0.74).
MIXED_LINES = [
    ("Anna Hansen", "+45 20000001", "Mobil Fri 50 GB", Decimal("0.99"), "S", Decimal("25")),
    ("Anna Hansen", "+45 20000001", "Udlandspakke", Decimal("0.99"), "S", Decimal("25")),
    ("Bo Jensen", "+45 20000002", "Mobil Fri 50 GB", Decimal("0.99"), "S", Decimal("25")),
    ("Bo Jensen", "+45 20000002", "Ekstra data 10 GB", Decimal("1234.56"), "S", Decimal("25")),
    ("", "", "Porto (momsfri)", Decimal("10.00"), "Z", Decimal("0")),
]


def invoice_with(account, lines=MIXED_LINES, **fields):
    net, vat, gross = pricing.totals((category, rate, amount) for _e, _n, _d, amount, category, rate in lines)
    invoice = InvoiceFactory(account=account, company=account.company, net_total=net, vat_total=vat,
                             gross_total=gross, line_count=len(lines),
                             currency="SEK" if account.company.country == "SE" else "DKK", **fields)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(company=account.company, invoice=invoice, position=index, employee_name=employee,
                    subscription_number=number, kind="fee", description=description, quantity=Decimal(1),
                    unit_price=amount, net_amount=amount, vat_category=category, vat_rate=rate,
                    starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 31))
        for index, (employee, number, description, amount, category, rate) in enumerate(lines, start=1)
    ], batch_size=5000)
    return invoice


def many_lines(count: int):
    return [(f"Employee {index // 4:05d}", f"+45 2{index // 4:07d}", f"Line {index}", Decimal("99.95"), "S",
             Decimal("25")) for index in range(count)]


def credit_note_for(invoice, lines=None, reason="Wrong plan"):
    lines = lines or list(invoice.lines.order_by("position")[:1])
    net, vat, gross = pricing.totals((line.vat_category, line.vat_rate, line.net_amount) for line in lines)
    note = CreditNote.objects.create(company=invoice.company, invoice=invoice, number=CreditNote.objects.count() + 500,
                                     issue_date=date(2026, 11, 10), reason=reason, currency=invoice.currency,
                                     net_total=net, vat_total=vat, gross_total=gross)
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(company=invoice.company, credit_note=note, position=index, invoice_line=line,
                       description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                       net_amount=line.net_amount, vat_category=line.vat_category, vat_rate=line.vat_rate)
        for index, line in enumerate(lines, start=1)
    ])
    return note


def ready_document(invoice, kind="pdf", credit_note=None, content=b"%PDF-1.7 test"):
    """A stored, current document without rendering it (for the route checks)."""
    version = credit_note_version(credit_note) if credit_note else invoice_version(invoice)
    document = InvoiceDocument(company=invoice.company, invoice=invoice, credit_note=credit_note, kind=kind,
                               version=version, rendered_version=version, status=InvoiceDocument.Status.READY,
                               progress=100)
    document.file.save(f"test-{kind}.{'pdf' if kind == 'pdf' else 'xml'}", ContentFile(content), save=False)
    document.save()
    return document


def render_now(document_ids):
    """What the worker does, in this thread."""
    for document_id in document_ids:
        document_render(document_id=document_id)


def schedule(function, ids):
    with transaction.atomic():
        return function(ids)


def pdf_text(data: bytes, layout: bool = False) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [file.name, "-"]
        return subprocess.run(args, check=True, capture_output=True).stdout.decode("utf-8")


def document_back_office_rows(company, account, invoice) -> dict:
    """A real row of each documents-area model the back office shows (tests/test_safe_methods.py)."""
    from invoices.documents_models import EInvoiceSubscription

    return {
        "invoicedocument": ready_document(invoice, "pdf"),
        "einvoicesubscription": EInvoiceSubscription.objects.create(company=company, account=account,
                                                                    emails=["faktura@example.com"]),
    }
