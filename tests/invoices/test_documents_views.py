"""Downloads and the documents fragment: scoped like every customer-side route (another company's or an
out-of-scope account's PDF, UBL or credit note file is a 404, and so is its file's own path), only
current files are served, always as attachments, never from a public path."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.permissions import Permission
from invoices.documents import schedule_credit_note_documents
from invoices.documents_models import InvoiceDocument
from tests.conftest import verified_client
from tests.factories import BillingAccountFactory
from tests.invoices.documents_helpers import credit_note_for, invoice_with, ready_document, schedule
from tests.tenancy import RouteCheck, TenantRouteTests


def invoice_pdf_in(company, account):
    invoice = invoice_with(account)
    ready_document(invoice, "pdf")
    return {"pk": invoice.pk, "kind": "pdf"}


def invoice_ubl_in(company, account):
    invoice = invoice_with(account)
    ready_document(invoice, "ubl", content=b"<Invoice/>")
    return {"pk": invoice.pk, "kind": "ubl"}


def credit_note_pdf_in(company, account):
    invoice = invoice_with(account)
    note = credit_note_for(invoice)
    ready_document(invoice, "pdf", credit_note=note)
    return {"pk": note.pk, "kind": "pdf"}


def credit_note_ubl_in(company, account):
    invoice = invoice_with(account)
    note = credit_note_for(invoice)
    ready_document(invoice, "ubl", credit_note=note, content=b"<CreditNote/>")
    return {"pk": note.pk, "kind": "ubl"}


def invoice_in(company, account):
    invoice = invoice_with(account)
    ready_document(invoice, "pdf")
    return {"pk": invoice.pk}


class TestDocumentAccess(TenantRouteTests):
    routes = [
        RouteCheck("invoices:document_download", Permission.VIEW_INVOICES, make_object=invoice_pdf_in),
        RouteCheck("invoices:document_download", Permission.VIEW_INVOICES, make_object=invoice_ubl_in),
        RouteCheck("invoices:credit_note_document_download", Permission.VIEW_INVOICES,
                   make_object=credit_note_pdf_in),
        RouteCheck("invoices:credit_note_document_download", Permission.VIEW_INVOICES,
                   make_object=credit_note_ubl_in),
        RouteCheck("invoices:documents", Permission.VIEW_INVOICES, make_object=invoice_in),
    ]


pytestmark = pytest.mark.django_db


def test_a_download_is_the_stored_file_as_an_attachment(company, superuser):
    invoice = invoice_with(BillingAccountFactory(company=company))
    document = ready_document(invoice, "pdf", content=b"%PDF-1.7 the stored file")
    response = verified_client(superuser).get(reverse("invoices:document_download", args=[invoice.pk, "pdf"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 the stored file"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    # The file lives in private storage, outside MEDIA_ROOT and the static files.
    path = document.file.path
    assert not path.startswith(str(settings.MEDIA_ROOT)) and not path.startswith(str(settings.STATIC_ROOT))
    assert str(settings.STORAGES["private"]["OPTIONS"]["location"]) in path


def test_no_public_url_serves_a_document_file(company, superuser, client):
    invoice = invoice_with(BillingAccountFactory(company=company))
    document = ready_document(invoice, "pdf")
    for url in (f"/media/{document.file.name}", f"/{document.file.name}", f"/static/{document.file.name}",
                f"{settings.MEDIA_URL}{document.file.name}"):
        assert client.get(url).status_code == 404
        assert verified_client(superuser).get(url).status_code == 404


def test_a_stale_or_unfinished_document_is_never_served(company, superuser):
    invoice = invoice_with(BillingAccountFactory(company=company))
    ready_document(invoice, "pdf")
    client = verified_client(superuser)
    url = reverse("invoices:document_download", args=[invoice.pk, "pdf"])
    assert client.get(url).status_code == 200
    note = credit_note_for(invoice)  # the invoice changed: its PDF no longer says what it is
    assert client.get(url).status_code == 404
    schedule(schedule_credit_note_documents, [note.pk])
    assert InvoiceDocument.objects.get(invoice=invoice, credit_note=None).status == "pending"
    assert client.get(url).status_code == 404
    assert client.get(reverse("invoices:document_download", args=[invoice.pk, "xml"])).status_code == 404


def test_the_fragment_polls_while_a_document_is_made_and_offers_it_when_ready(company, superuser):
    invoice = invoice_with(BillingAccountFactory(company=company))
    (document_id,) = schedule(lambda ids: __import__("invoices.documents", fromlist=["x"]).schedule_documents(ids),
                              [invoice.pk])
    InvoiceDocument.objects.filter(pk=document_id).update(status="rendering", progress=40)
    client = verified_client(superuser)
    url = reverse("invoices:documents", args=[invoice.pk])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="40"' in page and "Download PDF" not in page
    assert "<script" not in page  # CSP: no inline script
    InvoiceDocument.objects.filter(pk=document_id).delete()
    ready_document(invoice, "pdf")
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in page and reverse("invoices:document_download", args=[invoice.pk, "pdf"]) in page
    # The invoice page includes the same box.
    page = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert reverse("invoices:document_download", args=[invoice.pk, "pdf"]) in page
    assert 'id="invoice-documents-box"' in page


def test_the_credit_note_page_and_list_offer_its_pdf(company, superuser):
    invoice = invoice_with(BillingAccountFactory(company=company))
    note = credit_note_for(invoice)
    client = verified_client(superuser)
    download = reverse("invoices:credit_note_document_download", args=[note.pk, "pdf"])
    page = client.get(reverse("invoices:credit_note", args=[note.pk])).content.decode()
    assert download not in page and "every 2s" in page  # not made yet: the box polls
    ready_document(invoice, "pdf", credit_note=note)
    assert download in client.get(reverse("invoices:credit_note", args=[note.pk])).content.decode()
    assert download in client.get(reverse("invoices:credit_notes")).content.decode()
    # Another invoice's credit note is not shown through this invoice's fragment.
    other = credit_note_for(invoice_with(BillingAccountFactory(company=company)))
    fragment = reverse("invoices:documents", args=[invoice.pk])
    assert client.get(fragment, {"note": other.pk}).status_code == 404


def test_the_credit_note_list_sorts_by_its_pdf_column(company, superuser):
    invoice = invoice_with(BillingAccountFactory(company=company))
    with_pdf, without = credit_note_for(invoice), credit_note_for(invoice_with(BillingAccountFactory(company=company)))
    ready_document(with_pdf.invoice, "pdf", credit_note=with_pdf)
    client = verified_client(superuser)
    for sort, first in (("pdf", without), ("-pdf", with_pdf)):
        page = client.get(reverse("invoices:credit_notes"), {"sort": sort}).content.decode()
        assert page.index(f">{first.number}<") < page.index(f">{(with_pdf if first == without else without).number}<")


def test_the_download_and_the_fragment_take_a_fixed_number_of_queries(company, superuser,
                                                                      django_assert_num_queries):
    client = verified_client(superuser)
    invoice = invoice_with(BillingAccountFactory(company=company))
    for position in (1, 2, 3):
        note = credit_note_for(invoice, lines=list(invoice.lines.filter(position=position)))
        ready_document(invoice, "pdf", credit_note=note)
    ready_document(invoice, "pdf")  # made after the credit notes: current
    download = reverse("invoices:document_download", args=[invoice.pk, "pdf"])
    fragment = reverse("invoices:documents", args=[invoice.pk])
    client.get(download), client.get(fragment)  # the session and membership are cached after the first
    with django_assert_num_queries(QUERIES_DOWNLOAD):
        assert client.get(download).status_code == 200
    with django_assert_num_queries(QUERIES_FRAGMENT):
        assert client.get(fragment, HTTP_HX_REQUEST="true").status_code == 200
    for position in (4, 5):
        note = credit_note_for(invoice, lines=list(invoice.lines.filter(position=position)))
        ready_document(invoice, "pdf", credit_note=note)
    with django_assert_num_queries(QUERIES_FRAGMENT):
        assert client.get(fragment, HTTP_HX_REQUEST="true").status_code == 200


QUERIES_DOWNLOAD = 9
QUERIES_FRAGMENT = 9  # the same with 3 credit notes or 5: no query per file
