"""Downloads of invoice and credit note documents, and the invoice page's documents fragment.

Files are served only through these views (never from a public path): the row is found through the
membership's scope first, the file must be current, and it is always an attachment."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from invoices.documents import file_name
from invoices.documents_models import InvoiceDocument
from invoices.documents_selectors import (
    access_credit_note,
    access_invoice,
    downloadable_document,
    invoice_documents,
)
from invoices.models import CreditNote

CONTENT_TYPES = {InvoiceDocument.Kind.PDF: "application/pdf", InvoiceDocument.Kind.UBL: "application/xml"}


def _file_response(document: InvoiceDocument) -> FileResponse:
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=file_name(document),
                            content_type=CONTENT_TYPES[document.kind])
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class InvoiceDocumentDownloadView(PortalTemplateView):
    required_permission = Permission.VIEW_INVOICES

    def get(self, request, pk, kind):
        invoice = access_invoice(membership=self.membership, pk=pk)
        return _file_response(downloadable_document(invoice=invoice, credit_note=None, kind=kind))


class CreditNoteDocumentDownloadView(PortalTemplateView):
    required_permission = Permission.VIEW_INVOICES

    def get(self, request, pk, kind):
        credit_note = access_credit_note(membership=self.membership, pk=pk)
        return _file_response(downloadable_document(invoice=credit_note.invoice, credit_note=credit_note, kind=kind))


class InvoiceDocumentsFragmentView(PortalTemplateView):
    """The invoice page's documents box: polled with htmx while a document is being made, then it
    offers the downloads (templates/invoices/_documents.html)."""

    required_permission = Permission.VIEW_INVOICES
    template_name = "invoices/_documents_box.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = access_invoice(membership=self.membership, pk=kwargs["pk"])
        note = None
        if self.request.GET.get("note", "").isdigit():
            note = get_object_or_404(CreditNote.objects.filter(invoice=invoice), pk=int(self.request.GET["note"]))
        context.update(invoice_documents(invoice=invoice, note=note))
        return context
