"""The rendered documents of invoices and credit notes (PDF, UBL), and who gets them electronically.

``InvoiceDocument`` is the state of one file: pending → rendering → ready, or failed (retried with
back-off, shown to staff in the back office). ``version`` is what the document was rendered from
(``invoices.documents.document_version``): a download serves the file only while it still matches
the invoice, so a PDF of another version (an invoice credited since) is never served.
"""

from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


def private_storage():
    return storages["private"]


def document_upload_to(document, filename):
    owner = f"credit-notes/{document.credit_note_id}" if document.credit_note_id else f"invoices/{document.invoice_id}"
    return f"invoice-documents/{document.company_id}/{owner}/{filename}"


class InvoiceDocument(TenantModel):
    account_scope_lookup = "invoice__account"

    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF")
        UBL = "ubl", _("E-invoice (UBL)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RENDERING = "rendering", _("Being made")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    # A credit note's documents also name the invoice it corrects (scoping goes through the invoice).
    invoice = models.ForeignKey("invoices.Invoice", verbose_name=_("invoice"), on_delete=models.CASCADE,
                                related_name="documents")
    credit_note = models.ForeignKey("invoices.CreditNote", verbose_name=_("credit note"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    version = models.CharField(_("version"), max_length=64, blank=True)
    rendered_version = models.CharField(_("rendered from version"), max_length=64, blank=True)
    file = models.FileField(_("file"), storage=private_storage, upload_to=document_upload_to, max_length=300,
                            blank=True)
    content_hash = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    # Set in the transaction that first made the document ready and queued its e-mails / e-invoice:
    # a document is delivered once, however often it is rendered again.
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("invoice document")
        verbose_name_plural = _("invoice documents")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], condition=models.Q(credit_note__isnull=True),
                                    name="invoice_document_one_per_kind"),
            models.UniqueConstraint(fields=["credit_note", "kind"], condition=models.Q(credit_note__isnull=False),
                                    name="credit_note_document_one_per_kind"),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="invoice_document_status_idx"),
        ]

    def __str__(self):
        owner = f"CN {self.credit_note.number}" if self.credit_note_id else str(self.invoice.number)
        return f"{owner} {self.get_kind_display()}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY and self.rendered_version == self.version and bool(self.file)


class EInvoiceSubscription(TenantModel):
    """The addresses an account's invoices and credit notes are e-mailed to as PDFs. (The EAN for
    e-invoices is on the account itself: ``BillingAccount.ean`` with ``invoice_format = ean``.)"""

    account_scope_lookup = "account"

    account = models.OneToOneField("subscriptions.BillingAccount", verbose_name=_("account"),
                                   on_delete=models.CASCADE, related_name="einvoice_subscription")
    emails = ArrayField(models.EmailField(), verbose_name=_("e-mail addresses"), default=list, blank=True, size=10)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("invoice e-mail subscription")
        verbose_name_plural = _("invoice e-mail subscriptions")

    def __str__(self):
        return ", ".join(self.emails)
