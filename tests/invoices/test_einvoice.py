"""E-invoicing: signing an account up by e-mail (several addresses) or by EAN on the account page,
audited; each new invoice's PDF mailed through the outbox and received by a real SMTP server, exactly
once after a retry; the UBL of an EAN account sent through the e-invoice port once; a rendering failure
retried by the worker and visible to staff."""

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.permissions import Permission, Role
from invoices import documents
from invoices.documents import document_render, schedule_documents
from invoices.documents_models import EInvoiceSubscription, InvoiceDocument
from invoices.peppol.validation import validate_ubl
from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from selfcare.outbox.services import outbox_deliver
from subscriptions.models import BillingAccount
from tests.conftest import make_member, verified_client, wait_for
from tests.factories import BillingAccountFactory, StaffUserFactory
from tests.invoices.documents_helpers import invoice_with, render_now, schedule


def edit(client, account, **fields):
    data = {"name": account.name, "email": account.email, "ean": account.ean,
            "invoice_format": account.invoice_format, "more_emails": "", **fields}
    return client.post(reverse("subscriptions:account_edit", args=[account.pk]), data)


@pytest.mark.django_db
def test_sign_an_account_up_for_invoices_by_e_mail_to_several_addresses(company, superuser):
    account = BillingAccountFactory(company=company, email="", invoice_format="paper")
    client = verified_client(superuser)
    response = edit(client, account, invoice_format="pdf_email", email="bogholderi@nordlys.dk",
                    more_emails="cfo@nordlys.dk\nnot-an-address")
    assert response.status_code == 200 and "not a valid e-mail address" in response.content.decode()
    assert not EInvoiceSubscription.objects.exists()
    response = edit(client, account, invoice_format="pdf_email", email="bogholderi@nordlys.dk",
                    more_emails="cfo@nordlys.dk, revisor@example.com")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.invoice_format == "pdf_email"
    assert EInvoiceSubscription.objects.get(account=account).emails == ["cfo@nordlys.dk", "revisor@example.com"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED, company=company)
    assert event.actor == superuser
    assert event.changes[f"{account.number} more_emails"] == [[], ["cfo@nordlys.dk", "revisor@example.com"]]
    assert event.changes[f"{account.number} invoice_format"] == ["paper", "pdf_email"]
    page = client.get(reverse("subscriptions:account_detail", args=[account.pk])).content.decode()
    assert "revisor@example.com" in page  # the form shows the addresses again


@pytest.mark.django_db
def test_sign_an_account_up_for_ean_needs_a_valid_gln(company, superuser):
    account = BillingAccountFactory(company=company)
    client = verified_client(superuser)
    response = edit(client, account, invoice_format="ean", ean="5790000000013")
    assert "check digit" in response.content.decode()
    assert BillingAccount.objects.get(pk=account.pk).ean == ""
    assert edit(client, account, invoice_format="ean", ean="5790 0000 0001 2").status_code == 302
    account.refresh_from_db()
    assert (account.invoice_format, account.ean) == ("ean", "5790000000012")
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED, company=company)
    assert event.changes[f"{account.number} ean"] == ["", "5790000000012"]


@pytest.mark.django_db
def test_without_manage_invoice_settings_the_sign_up_is_refused(company):
    reader = make_member(company, Role.CUSTOM, permissions={Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_INVOICES})
    account = BillingAccountFactory(company=company)
    assert edit(verified_client(reader.user), account, invoice_format="ean", ean="5790000000012").status_code == 403
    assert BillingAccount.objects.get(pk=account.pk).ean == ""


class FlakySMTP:
    """The first DATA is refused with a temporary error (451), the rest go to the real inbox."""

    def __init__(self, inbox):
        self.accept, self.refused = inbox.handle_DATA, 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not self.refused:
            self.refused += 1
            return "451 Try again later"
        return await self.accept(server, session, envelope)


@pytest.mark.celery_worker
def test_each_new_invoice_pdf_is_mailed_once_to_every_address_after_a_retry(celery_worker, smtp_server, company):
    account = BillingAccountFactory(company=company, email="bogholderi@nordlys.dk", invoice_format="pdf_email")
    EInvoiceSubscription.objects.create(company=company, account=account, emails=["cfo@nordlys.dk"])
    invoice = invoice_with(account)
    flaky = FlakySMTP(smtp_server)
    smtp_server.handle_DATA = flaky.handle_DATA  # the controller calls the handler's hook
    with transaction.atomic():
        schedule_documents([invoice.pk])
    document = wait_for(lambda: InvoiceDocument.objects.filter(invoice=invoice, status="ready").first(), timeout=60)
    wait_for(lambda: len(smtp_server.messages) == 2, timeout=60)
    assert flaky.refused == 1  # one attempt failed and was retried
    stored = document.file.open("rb").read()
    for address in ("bogholderi@nordlys.dk", "cfo@nordlys.dk"):
        (message,) = smtp_server.to(address)
        assert str(invoice.number) in message["Subject"]
        (pdf,) = [part for part in message.iter_attachments()]
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == f"invoice-{invoice.number}.pdf"
        assert pdf.get_content() == stored
        assert invoice.payment_reference in smtp_server.body(message)
    wait_for(lambda: OutboxMessage.objects.filter(status="sent").count() == 2)  # committed after the 250
    retried = OutboxMessage.objects.filter(attempts=2)
    assert retried.count() == 1 and retried.get().status == "sent"
    # Delivered again by a duplicate task, or the PDF rendered again: nothing is sent twice.
    for message in OutboxMessage.objects.all():
        assert outbox_deliver(message_id=message.pk) is False
    documents.document_render_again(document_ids=[document.pk])
    wait_for(lambda: InvoiceDocument.objects.get(pk=document.pk).status == "ready", timeout=60)
    assert OutboxMessage.objects.count() == 2 and len(smtp_server.messages) == 2


@pytest.mark.celery_worker
def test_the_ubl_of_an_ean_account_goes_through_the_e_invoice_port_once(celery_worker, company):
    account = BillingAccountFactory(company=company, ean="5790000000012", invoice_format="ean")
    invoice = invoice_with(account)
    with transaction.atomic():
        schedule_documents([invoice.pk])
    wait_for(lambda: DevInboxMessage.objects.filter(channel=Channel.EINVOICE).exists(), timeout=60)
    document = InvoiceDocument.objects.get(invoice=invoice, kind="ubl")
    (message,) = OutboxMessage.objects.filter(channel=Channel.EINVOICE)
    assert message.recipient == "5790000000012" and message.status == "sent"
    (received,) = DevInboxMessage.objects.filter(channel=Channel.EINVOICE)
    from django.core.files.storage import storages

    stored_name = received.body.split(" ")[0]
    sent = storages["private"].open(stored_name, "rb").read()
    assert sent == document.file.open("rb").read()
    assert validate_ubl(sent).ok
    assert outbox_deliver(message_id=message.pk) is False
    # An EAN account's PDF is not e-mailed.
    assert not OutboxMessage.objects.filter(channel=Channel.EMAIL).exists()


@pytest.mark.celery_worker
def test_a_rendering_failure_is_retried_by_the_worker(celery_worker, company, monkeypatch):
    real = documents.render_bytes
    calls = []

    def flaky(document, progress=None):
        calls.append(document.pk)
        if len(calls) == 1:
            raise OSError("disk full")
        return real(document, progress)

    monkeypatch.setattr(documents, "render_bytes", flaky)
    invoice = invoice_with(BillingAccountFactory(company=company))
    with transaction.atomic():
        (document_id,) = schedule_documents([invoice.pk])
    document = wait_for(lambda: InvoiceDocument.objects.filter(pk=document_id, status="ready").first(), timeout=60)
    assert len(calls) == 2 and document.attempts == 2 and document.error == ""


@pytest.mark.django_db
def test_a_failed_rendering_is_visible_to_staff_and_can_be_rendered_again(company, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    invoice = invoice_with(BillingAccountFactory(company=company))
    (document_id,) = schedule(schedule_documents, [invoice.pk])

    def broken(document, progress=None):
        raise OSError("fonts missing")

    monkeypatch.setattr(documents, "render_bytes", broken)
    with pytest.raises(documents.DocumentNotRendered):
        document_render(document_id=document_id)
    document = InvoiceDocument.objects.get(pk=document_id)
    assert document.status == "failed" and "fonts missing" in document.error and document.attempts == 1
    staff = verified_client(StaffUserFactory(is_superuser=True))
    changelist = reverse("admin:invoices_invoicedocument_changelist")
    page = staff.get(changelist, {"status__exact": "failed"}).content.decode()
    assert str(invoice.number) in page and "fonts missing" in page
    assert str(invoice.number) not in staff.get(changelist, {"status__exact": "ready"}).content.decode()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(changelist, {"action": "render_again", "_selected_action": [document_id]})
    assert response.status_code == 302 and callbacks
    assert InvoiceDocument.objects.get(pk=document_id).status == "pending"
    render_now([document_id])
    assert InvoiceDocument.objects.get(pk=document_id).is_ready
