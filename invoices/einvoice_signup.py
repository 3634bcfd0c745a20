"""Signing an account up for its invoices by e-mail (one or more addresses) or by EAN (e-invoice).

The account page (subscriptions: ``BillingAccountEditView``, behind "Manage invoice settings") edits
the account's invoice format, EAN and e-mail; this adds the further addresses and writes the change,
with its audit event, in one transaction.

An account that signs up by EAN also gets the UBL of its earlier documents (``earlier_ubl_schedule``).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEvent
from accounts.services.audit import audit_diff, audit_record
from invoices.documents import schedule_credit_note_documents, schedule_documents, wants_ubl
from invoices.documents_models import EInvoiceSubscription, InvoiceDocument
from invoices.models import CreditNote, Invoice
from subscriptions.models import BillingAccount
from subscriptions.services import billing_account_update

MAX_EXTRA_EMAILS = 9


def parse_invoice_emails(text: str) -> list[str]:
    """Addresses separated by commas, semicolons or new lines; each must be a valid address."""
    addresses = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(_("“%(address)s” is not a valid e-mail address.") % {"address": address}) from None
        if address.lower() not in {known.lower() for known in addresses}:
            addresses.append(address)
    if len(addresses) > MAX_EXTRA_EMAILS:
        raise ValidationError(_("At most %(count)d further addresses.") % {"count": MAX_EXTRA_EMAILS})
    return addresses


def extra_invoice_emails(account: BillingAccount) -> list[str]:
    subscription = EInvoiceSubscription.objects.filter(account=account).first()
    return list(subscription.emails) if subscription else []


def invoice_recipients(account: BillingAccount) -> list[str]:
    """Where each new invoice's PDF is e-mailed: the account's invoice e-mail and the further addresses,
    when the account gets its invoices by e-mail."""
    if account.invoice_format != BillingAccount.InvoiceFormat.PDF_EMAIL:
        return []
    recipients = [account.email] if account.email else []
    for address in extra_invoice_emails(account):
        if address.lower() not in {known.lower() for known in recipients}:
            recipients.append(address)
    return recipients


def invoice_delivery_update(*, membership, account_id: int, fields: dict, request=None) -> BillingAccount:
    """The account's invoice settings (name, format, EAN, e-mail) and further addresses, audited."""
    fields = dict(fields)
    extra = fields.pop("more_emails", None)
    with transaction.atomic():
        before_account = BillingAccount.objects.for_membership(membership).get(pk=account_id)
        before = {"name": before_account.name, "email": before_account.email, "ean": before_account.ean,
                  "invoice_format": before_account.invoice_format, "more_emails": extra_invoice_emails(before_account)}
        account = billing_account_update(membership=membership, account_id=account_id, fields=fields)
        if wants_ubl(account) and not wants_ubl(before_account):
            earlier_ubl_schedule(account=account)
        if extra is not None:
            EInvoiceSubscription.objects.update_or_create(account=account, defaults={
                "company_id": account.company_id, "emails": extra})
        after = {"name": account.name, "email": account.email, "ean": account.ean,
                 "invoice_format": account.invoice_format,
                 "more_emails": extra if extra is not None else before["more_emails"]}
        changes = audit_diff(before, after)
        if changes:
            # Invoice settings are part of the company's profile in the log ("Company profile changed").
            audit_record(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED, actor=membership.user,
                         company=membership.company, request=request,
                         changes={f"{account.number} {name}": value for name, value in changes.items()})
    return account


# Earlier documents after an EAN sign-up ------------------------------------------------------------
# What the customer expects: their accounting system takes e-invoices from now on, and the documents
# they still have to deal with, or may be asked for, should be there as e-invoices too. So the UBL is
# made of every invoice of the account issued in the last 12 months (a year of bookkeeping, the
# invoice page's 12-month chart), of every invoice still unpaid however old, and of the credit notes
# of those invoices. They are made by the document workers like any other (same builder, same
# validation in the tests) and offered as downloads on the invoice page, but NOT sent through the
# e-invoice port: these documents reached the customer before (by e-mail or paper) and some are paid,
# and an access point would put them into the accounting system again as new invoices to pay.
EARLIER_UBL_DAYS = 365


def earlier_ubl_schedule(*, account, today=None) -> list[int]:
    """Queue the UBL of ``account``'s earlier invoices and credit notes (see above), inside the sign-up's
    transaction; the workers render them after commit. Returns the queued document ids."""
    today = today or timezone.localdate()
    since = today - timedelta(days=EARLIER_UBL_DAYS)
    invoice_ids = list(Invoice.objects.filter(account=account)
                       .filter(Q(issue_date__gte=since) | Q(status__in=Invoice.UNPAID)).values_list("pk", flat=True))
    if not invoice_ids:
        return []
    credit_note_ids = list(CreditNote.objects.filter(invoice_id__in=invoice_ids).values_list("pk", flat=True))
    existing = set(InvoiceDocument.objects.filter(invoice_id__in=invoice_ids, kind=InvoiceDocument.Kind.UBL)
                   .values_list("pk", flat=True))
    queued = schedule_documents(invoice_ids)
    if credit_note_ids:
        queued += schedule_credit_note_documents(credit_note_ids)
    # A new UBL of an earlier document counts as delivered already: the worker makes and stores it and
    # sends nothing (documents.document_render delivers only what has no ``delivered_at``).
    InvoiceDocument.objects.filter(pk__in=queued, kind=InvoiceDocument.Kind.UBL, delivered_at__isnull=True).exclude(
        pk__in=existing).update(delivered_at=timezone.now())
    return sorted(set(queued))

