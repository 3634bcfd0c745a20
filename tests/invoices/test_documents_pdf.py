"""Invoice and credit note PDFs: rendered by the worker's service, read back with pdftotext, and checked
against the database (amounts, totals, payment reference, EAN, language and number format)."""

import os
import re
from datetime import date
from decimal import Decimal

import pytest

from invoices import pdf
from invoices.documents import (
    invoice_pdf_content,
    schedule_credit_note_documents,
    schedule_documents,
)
from invoices.documents_models import InvoiceDocument
from invoices.models import InvoiceLine
from invoices.pricing import vat_breakdown
from tests.factories import BillingAccountFactory, CompanyFactory, orgnr
from tests.invoices.documents_helpers import (
    credit_note_for,
    invoice_with,
    many_lines,
    pdf_text,
    render_now,
    schedule,
)

pytestmark = pytest.mark.django_db


def words(text: str) -> str:
    return " ".join(text.split())


def content_lines(text: str) -> list[str]:
    """The text row by row, without blank lines and page breaks (where pages break may differ)."""
    return [" ".join(row.split()) for row in text.replace("\f", "\n").splitlines() if row.strip()]


def test_format_money_in_danish_and_swedish():
    assert pdf.format_money(Decimal("1234.56"), "da") == "1.234,56 kr."
    assert pdf.format_money(Decimal("1234.56"), "sv") == "1 234,56 kr"
    assert pdf.format_money(Decimal("-1234567.5"), "da") == "-1.234.567,50 kr."
    assert pdf.format_money(Decimal("0.005"), "sv") == "0,01 kr"


def test_a_danish_invoice_pdf_says_what_the_database_says(company):
    account = BillingAccountFactory(company=company, ean="5790000000012", name="Hovedkonto")
    invoice = invoice_with(account)
    InvoiceLine.objects.filter(invoice=invoice, position=2).update(starts_on=date(2026, 10, 12))
    (document_id,) = schedule(schedule_documents, [invoice.pk])
    render_now([document_id])
    document = InvoiceDocument.objects.get(pk=document_id)
    assert document.status == "ready" and document.is_ready and document.progress == 100
    data = document.file.open("rb").read()
    assert data.startswith(b"%PDF") and len(data) == document.size
    text = words(pdf_text(data))

    money = lambda amount: pdf.format_money(amount, "da")  # noqa: E731
    assert f"Faktura {invoice.number}" in text or f"Invoice {invoice.number}" in text
    for expected in (company.name, account.number, account.name, "5790000000012", invoice.payment_reference,
                     invoice.due_date.strftime("%d.%m.%Y"), money(invoice.net_total), money(invoice.vat_total),
                     money(invoice.gross_total), company.registration_number):
        assert expected in text, expected
    # Danish number format, the header's amounts: 1.237,53 + 0,00 (Z) ... to the øre
    assert invoice.net_total == Decimal("1247.53") and money(invoice.net_total) == "1.247,53 kr."
    # The VAT summary: per category, the VAT of the category's total, rounded once.
    for row in vat_breakdown(InvoiceLine.objects.filter(invoice=invoice).values_list("vat_category", "vat_rate",
                                                                                         "net_amount")):
        assert money(row.taxable) in text and money(row.vat) in text
    # The specification per subscription (read row by row in layout mode): each subscription's heading
    # with its subtotal, then every line; the days charged only for a line charged for part of the month.
    rows = [" ".join(row.split()) for row in pdf_text(data, layout=True).splitlines()]
    for line in InvoiceLine.objects.filter(invoice=invoice).exclude(position=2):
        assert f"{line.description} {money(line.net_amount)}" in rows
    assert f"Udlandspakke 12.10.2026–31.10.2026 {money(Decimal('0.99'))}" in rows
    assert "Anna Hansen – +45 20000001 1,98 kr." in rows
    assert "Bo Jensen – +45 20000002 1.235,55 kr." in rows
    assert rows.index("Anna Hansen – +45 20000001 1,98 kr.") < rows.index("Mobil Fri 50 GB 0,99 kr.")


def test_a_swedish_invoice_pdf_uses_swedish_number_format(db):
    company = CompanyFactory(country="SE", registration_number=orgnr("556036079"), name="Kund AB")
    account = BillingAccountFactory(company=company)
    invoice = invoice_with(account)
    render_now(schedule(schedule_documents, [invoice.pk]))
    text = words(pdf_text(InvoiceDocument.objects.get(invoice=invoice).file.open("rb").read()))
    assert pdf.format_money(invoice.gross_total, "sv") in text
    assert re.search(r"1 247,53 kr(?!\.)", text)
    assert invoice.due_date.isoformat() in text  # Swedish dates: 2026-12-01
    assert "Org.nr 556036-0793" in text
    assert "EAN" not in text  # no EAN on this account


@pytest.mark.parametrize("helper", ["none", "second half", "failing"])
def test_the_chunked_pdf_has_the_same_text_as_one_big_table(company, monkeypatch, helper):
    """Page by page, in one process or with the second half of the pages in a forked helper (joined with
    pypdf), or with a helper that fails (its pages rendered here instead): the text of one plain table."""
    account = BillingAccountFactory(company=company)
    invoice = invoice_with(account, lines=many_lines(180))
    content = invoice_pdf_content(invoice)
    joined = []
    if helper != "none":
        monkeypatch.setattr(pdf, "PARALLEL_PAGES", 2)
        monkeypatch.setattr(pdf, "_join", lambda parts, join=pdf._join: joined.append(len(parts)) or join(parts))
    if helper == "failing":
        monkeypatch.setattr(pdf._PagesInChild, "_child", staticmethod(lambda *args: os._exit(1)))
    progress = []
    chunked = pdf.render_pdf(content, single_document_rows=0, processes=1 if helper == "none" else 2,
                             progress=lambda done, total: progress.append((done, total)))
    naive = pdf.render_pdf_naive(content)
    assert content_lines(pdf_text(chunked, layout=True)) == content_lines(pdf_text(naive, layout=True))
    # The header's pages, then a document per specification page: 46 rows on the first, 50 on the others.
    pages = len(range(pdf.FIRST_PAGE_ROWS, len(content.rows), pdf.ROWS_PER_PAGE)) + 1
    assert pdf_text(chunked).count("\f") == 1 + pages  # the header's page and the specification's
    if helper == "none":
        assert progress == [(done, 1 + pages) for done in range(1, 2 + pages)] and not joined
    else:
        assert progress[-1] == (1 + pages, 1 + pages) and joined == [2]


def test_a_credit_note_pdf_and_the_credited_invoice_rendered_again(company):
    account = BillingAccountFactory(company=company)
    invoice = invoice_with(account)
    render_now(schedule(schedule_documents, [invoice.pk]))
    first = InvoiceDocument.objects.get(invoice=invoice, credit_note=None)
    note = credit_note_for(invoice, lines=list(invoice.lines.filter(position__in=[4])))
    queued = schedule(schedule_credit_note_documents, [note.pk])
    # The credit note's PDF and the invoice's (it changed: now it names its credit note) are queued.
    assert set(queued) == {first.pk, InvoiceDocument.objects.get(credit_note=note).pk}
    first.refresh_from_db()
    assert first.status == "pending" and not first.is_ready  # the old file is not served any more
    render_now(queued)
    note_text = words(pdf_text(InvoiceDocument.objects.get(credit_note=note).file.open("rb").read()))
    for expected in (str(note.number), str(invoice.number), "Ekstra data 10 GB", pdf.format_money(note.net_total, "da"),
                     pdf.format_money(note.vat_total, "da"), pdf.format_money(note.gross_total, "da"), note.reason):
        assert expected in note_text, expected
    invoice_text = words(pdf_text(InvoiceDocument.objects.get(pk=first.pk).file.open("rb").read()))
    assert str(note.number) in invoice_text


def test_a_document_whose_lines_miss_the_header_fails_instead_of_showing_wrong_amounts(company):
    account = BillingAccountFactory(company=company)
    invoice = invoice_with(account)
    type(invoice).objects.filter(pk=invoice.pk).update(net_total=invoice.net_total + Decimal("0.01"),
                                                       gross_total=invoice.gross_total + Decimal("0.01"))
    (document_id,) = schedule(schedule_documents, [invoice.pk])
    with pytest.raises(Exception, match="document"):
        render_now([document_id])
    document = InvoiceDocument.objects.get(pk=document_id)
    assert document.status == "failed" and "TotalsMismatch" in document.error and not document.file
