"""After an EAN sign-up, the account's earlier invoices and credit notes (issued in the last 12 months,
or still unpaid) get their UBL made by the workers and offered as downloads, valid under the official
rules, without being sent through the e-invoice port again; new documents are sent as before."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from invoices.documents import schedule_documents
from invoices.documents_models import InvoiceDocument
from invoices.peppol.validation import validate_ubl
from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from tests.conftest import verified_client, wait_for
from tests.factories import BillingAccountFactory
from tests.invoices.documents_helpers import credit_note_for, invoice_with
from tests.invoices.test_einvoice import edit

EAN = "5790000000012"


def _invoice(account, period, **fields):
    """An invoice of ``period`` whose lines are charged for that month (the UBL's line periods)."""
    import calendar

    from invoices.models import InvoiceLine

    invoice = invoice_with(account, period=period, **fields)
    last = period.replace(day=calendar.monthrange(period.year, period.month)[1])
    InvoiceLine.objects.filter(invoice=invoice).update(starts_on=period, ends_on=last)
    return invoice


def _download(client, invoice=None, note=None):
    if note is not None:
        return client.get(reverse("invoices:credit_note_document_download", args=[note.pk, "ubl"]))
    return client.get(reverse("invoices:document_download", args=[invoice.pk, "ubl"]))


@pytest.mark.celery_worker
def test_earlier_invoices_get_their_ubl_after_an_ean_sign_up_and_are_not_sent_again(celery_worker, company,
                                                                                     superuser):
    from datetime import date

    today = timezone.localdate()
    account = BillingAccountFactory(company=company, email="bogholderi@nordlys.dk", invoice_format="pdf_email")
    unpaid_old = _invoice(account, date(2025, 1, 1), issue_date=today - timedelta(days=600),
                              status="overdue")
    paid_recent = _invoice(account, date(2026, 9, 1), issue_date=today - timedelta(days=60),
                               status="paid")
    note = credit_note_for(paid_recent)
    paid_old = _invoice(account, date(2024, 6, 1), issue_date=today - timedelta(days=500), status="paid")
    client = verified_client(superuser)
    assert _download(client, unpaid_old).status_code == 404  # no e-invoice before the sign-up

    assert edit(client, account, invoice_format="ean", ean=EAN).status_code == 302

    def made():
        return InvoiceDocument.objects.filter(kind="ubl", status="ready").count() == 3

    wait_for(made, timeout=60)
    for response in (_download(client, unpaid_old), _download(client, paid_recent),
                     _download(client, note=note)):
        assert response.status_code == 200 and response["Content-Type"] == "application/xml"
        xml = b"".join(response.streaming_content)
        assert EAN.encode() in xml
        result = validate_ubl(xml)
        assert result.ok, result
    assert b"CreditNote" in b"".join(_download(client, note=note).streaming_content)
    # Older than a year and paid: not made. Nothing went to the e-invoice port, no PDF was mailed again.
    assert _download(client, paid_old).status_code == 404
    assert not InvoiceDocument.objects.filter(invoice=paid_old).exists()
    assert not OutboxMessage.objects.filter(channel__in=[Channel.EINVOICE, Channel.EMAIL]).exists()
    assert not DevInboxMessage.objects.filter(channel=Channel.EINVOICE).exists()

    # Saving the settings again makes nothing new; the next invoice is sent through the port as usual.
    assert edit(client, account, invoice_format="ean", ean=EAN).status_code == 302
    assert InvoiceDocument.objects.filter(kind="ubl").count() == 3
    new = _invoice(account, date(2026, 11, 1), issue_date=today)
    with transaction.atomic():
        schedule_documents([new.pk])
    wait_for(lambda: DevInboxMessage.objects.filter(channel=Channel.EINVOICE).exists(), timeout=60)
    (message,) = OutboxMessage.objects.filter(channel=Channel.EINVOICE)
    assert message.recipient == EAN and str(new.number) in message.subject


@pytest.mark.django_db
def test_only_a_new_ean_sign_up_schedules_earlier_documents(company, superuser, django_capture_on_commit_callbacks):
    account = BillingAccountFactory(company=company, invoice_format="pdf_email", email="a@nordlys.dk")
    invoice_with(account, issue_date=timezone.localdate() - timedelta(days=30), status="paid")
    client = verified_client(superuser)
    edit(client, account, name="Hovedkonto")  # still by e-mail: nothing
    assert not InvoiceDocument.objects.filter(kind="ubl").exists()
    with django_capture_on_commit_callbacks() as callbacks:
        edit(client, account, invoice_format="ean", ean=EAN)
    assert InvoiceDocument.objects.filter(kind="ubl", delivered_at__isnull=False).count() == 1 and callbacks
