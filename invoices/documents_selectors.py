"""Reads of the documents area: an invoice's or a credit note's documents, found through the
membership's scope (another company's, or an account outside the login's scope, is a 404)."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from invoices.documents import credit_note_version, invoice_version
from invoices.documents_models import InvoiceDocument
from invoices.models import CreditNote, Invoice


def access_invoice(*, membership, pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.for_membership(membership).select_related("account"), pk=pk)


def access_credit_note(*, membership, pk: int) -> CreditNote:
    return get_object_or_404(CreditNote.objects.for_membership(membership).select_related("invoice__account"), pk=pk)


def _current(documents, version: str) -> list[InvoiceDocument]:
    for document in documents:
        document.current = document.is_ready and document.rendered_version == version
    return documents


def invoice_documents(*, invoice: Invoice, note: CreditNote | None = None) -> dict:
    """The invoice's documents and its credit notes' documents (or only ``note``'s), each marked
    ``current`` when its file is the one to serve (ready and rendered from what the invoice is now).
    ``note`` must be a credit note of ``invoice`` (the caller found both through the scope)."""
    credit_notes = list(CreditNote.objects.filter(invoice=invoice).order_by("number"))
    documents = list(InvoiceDocument.objects.filter(invoice=invoice).order_by("credit_note_id", "kind"))
    own = _current([doc for doc in documents if doc.credit_note_id is None],
                   invoice_version(invoice, [note.number for note in credit_notes]))
    notes = []
    for note in credit_notes:
        note_documents = _current([doc for doc in documents if doc.credit_note_id == note.pk],
                                  credit_note_version(note))
        notes.append((note, note_documents))
    if note is not None:
        notes = [(credit_note, docs) for credit_note, docs in notes if credit_note.pk == note.pk]
        documents = [doc for doc in documents if doc.credit_note_id == note.pk]
        own = []
    shown = own + [doc for _note, docs in notes for doc in docs]
    waiting = (any(not doc.current and doc.status != doc.Status.FAILED for doc in shown)
               or (note is None and not own) or any(not docs for _note, docs in notes))
    return {"invoice": invoice, "note": note, "documents": own, "credit_notes": notes, "waiting": waiting}


def downloadable_document(*, invoice: Invoice, credit_note: CreditNote | None, kind: str) -> InvoiceDocument:
    """The stored file to serve, only if it is current; anything else is a 404 (never a stale file)."""
    document = (InvoiceDocument.objects.filter(invoice=invoice, credit_note=credit_note, kind=kind)
                .select_related("invoice", "credit_note").first())
    if document is None or not document.is_ready:
        raise Http404
    version = credit_note_version(credit_note) if credit_note else invoice_version(invoice)
    if document.rendered_version != version:
        raise Http404
    return document


def with_pdf_ready(credit_notes):
    """Credit notes annotated with ``pdf_ready`` (their PDF has been made) for the credit note list."""
    from django.db.models import Exists, OuterRef

    return credit_notes.annotate(pdf_ready=Exists(InvoiceDocument.objects.filter(
        credit_note=OuterRef("pk"), kind=InvoiceDocument.Kind.PDF, status=InvoiceDocument.Status.READY)))


def credit_note_pdf_url(credit_note) -> str:
    from django.urls import reverse

    return reverse("invoices:credit_note_document_download", args=[credit_note.pk, "pdf"])
