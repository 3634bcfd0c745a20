"""Invoice and credit note documents: the PDF for everyone, the UBL e-invoice for accounts with an EAN.

Flow: the billing run (or a credit note) calls ``schedule_documents`` / ``schedule_credit_note_documents``
in its transaction; that writes one ``InvoiceDocument`` per file, pending, and queues
``invoices.tasks.render_invoice_document`` on commit. The worker renders the file once
(``document_render``), stores it in private storage (never under a public URL) and, in the
transaction that makes it ready, queues its deliveries through the outbox: the PDF to the account's
invoice e-mail addresses, the UBL to the e-invoice port. A document is delivered once
(``delivered_at``), however often it is rendered again.

``document_version`` is what a document depends on. A download serves the stored file only while its
rendered version is the invoice's current one; an invoice that changed (credited) is rendered again
and, until then, offers no file rather than a stale one.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import RegistrationNumberDisplay
from invoices import pdf, ubl
from invoices.documents_models import InvoiceDocument
from invoices.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from selfcare.outbox.services import attachment, outbox_enqueue_einvoice, outbox_enqueue_email
from subscriptions.models import BillingAccount

logger = logging.getLogger(__name__)

# Bump when the templates or builders change what a document says: every document is then stale.
LAYOUT_VERSION = "1"
MAX_ATTEMPTS = 6
Kind = InvoiceDocument.Kind
Status = InvoiceDocument.Status


class DocumentNotRendered(Exception):
    """Rendering failed; the task retries with back-off and staff see the error in the back office."""


# Versions -------------------------------------------------------------------------------------------

def _hash(*parts) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def invoice_version(invoice: Invoice, credit_notes: list[int] | None = None) -> str:
    if credit_notes is None:
        credit_notes = list(CreditNote.objects.filter(invoice=invoice).order_by("number")
                            .values_list("number", flat=True))
    return _hash(LAYOUT_VERSION, invoice.number, invoice.net_total, invoice.vat_total, invoice.gross_total,
                 invoice.due_date, invoice.payment_reference, invoice.status == Invoice.Status.CREDITED,
                 sorted(credit_notes))


def credit_note_version(credit_note: CreditNote) -> str:
    return _hash(LAYOUT_VERSION, "credit", credit_note.number, credit_note.net_total, credit_note.vat_total,
                 credit_note.gross_total, credit_note.reason)


def document_version(document: InvoiceDocument) -> str:
    if document.credit_note_id:
        return credit_note_version(document.credit_note)
    return invoice_version(document.invoice)


def wants_ubl(account: BillingAccount) -> bool:
    return account.invoice_format == BillingAccount.InvoiceFormat.EAN and bool(account.ean)


# Scheduling (called by the billing run and the credit note service, inside their transaction) ---------

def _ensure(wanted: list[tuple[Invoice, CreditNote | None, str, str]]) -> list[int]:
    """(invoice, credit note, kind, version) → the documents, created or made pending again where
    their version changed (or they had failed). Set-based: a billing run schedules thousands."""
    if not wanted:
        return []
    invoice_ids = {invoice.pk for invoice, _cn, _k, _v in wanted}
    existing = {(doc.invoice_id, doc.credit_note_id, doc.kind): doc
                for doc in InvoiceDocument.objects.filter(invoice_id__in=invoice_ids)}
    new, changed = [], []
    for invoice, credit_note, kind, version in wanted:
        document = existing.get((invoice.pk, credit_note.pk if credit_note else None, kind))
        if document is None:
            new.append(InvoiceDocument(company_id=invoice.company_id, invoice=invoice, credit_note=credit_note,
                                       kind=kind, version=version))
        elif document.version != version or document.status == Status.FAILED:
            changed.append((document.pk, version))
    created = InvoiceDocument.objects.bulk_create(new, batch_size=2000)
    for document_id, version in changed:
        InvoiceDocument.objects.filter(pk=document_id).update(
            version=version, status=Status.PENDING, progress=0, attempts=0, error="", updated_at=timezone.now())
    return [document.pk for document in created] + [document_id for document_id, _v in changed]


def _queue(document_ids: list[int]) -> None:
    def publish():
        from invoices.documents_tasks import render_invoice_document

        for document_id in document_ids:
            try:
                render_invoice_document.delay(document_id)
            except Exception as error:  # noqa: BLE001 - the broker is down: the sweep queues it again
                logger.warning("document %s not queued (%r): the sweep queues it again", document_id, error)

    if document_ids:
        transaction.on_commit(publish)


def schedule_documents(invoice_ids) -> list[int]:
    """The PDF (and the UBL for an EAN account) of each invoice, rendered by a worker after commit.
    Called in the transaction that issues or changes the invoices. Idempotent: an invoice whose
    documents are current queues nothing. Returns the queued document ids."""
    invoices = list(Invoice.objects.filter(pk__in=list(invoice_ids)).select_related("account"))
    credit_notes: dict[int, list[int]] = {}
    for invoice_id, number in CreditNote.objects.filter(invoice__in=invoices).values_list("invoice_id", "number"):
        credit_notes.setdefault(invoice_id, []).append(number)
    wanted = []
    for invoice in invoices:
        version = invoice_version(invoice, credit_notes.get(invoice.pk, []))
        for kind in ([Kind.PDF, Kind.UBL] if wants_ubl(invoice.account) else [Kind.PDF]):
            wanted.append((invoice, None, kind, version))
    queued = _ensure(wanted)
    _queue(queued)
    return queued


def schedule_credit_note_documents(credit_note_ids) -> list[int]:
    """A credit note's PDF (and UBL), and the corrected invoice's documents again (it now says it is
    credited). Called in the transaction that issues the credit note."""
    wanted, invoice_ids = [], set()
    for credit_note in CreditNote.objects.filter(pk__in=list(credit_note_ids)).select_related("invoice__account"):
        version = credit_note_version(credit_note)
        for kind in ([Kind.PDF, Kind.UBL] if wants_ubl(credit_note.invoice.account) else [Kind.PDF]):
            wanted.append((credit_note.invoice, credit_note, kind, version))
        invoice_ids.add(credit_note.invoice_id)
    queued = _ensure(wanted)
    _queue(queued)
    return queued + schedule_documents(invoice_ids)


def document_render_again(*, document_ids) -> int:
    """The back office's "render again": failed (or any) documents back to pending, queued."""
    ids = list(InvoiceDocument.objects.filter(pk__in=list(document_ids)).values_list("pk", flat=True))
    InvoiceDocument.objects.filter(pk__in=ids).update(status=Status.PENDING, progress=0, attempts=0, error="",
                                                      updated_at=timezone.now())
    _queue(ids)
    return len(ids)


# What a document says -------------------------------------------------------------------------------

def seller_for(country: str) -> tuple[ubl.Party, ubl.PaymentAccount]:
    """The operator's company that bills customers of this country (settings.INVOICE_SELLERS)."""
    sellers = settings.INVOICE_SELLERS
    data = dict(sellers.get(country) or sellers["DK"])
    payment_fields = ubl.PaymentAccount.__dataclass_fields__
    payment = ubl.PaymentAccount(**{key: data.pop(key) for key in list(data) if key in payment_fields})
    return ubl.Party(**data), payment


def buyer_for(account: BillingAccount) -> ubl.Party:
    company = account.company
    return ubl.Party(name=company.name, country=company.country, registration_number=company.registration_number,
                     street=company.street, city=company.city, postal_code=company.postal_code, ean=account.ean)


def _breakdown(rows) -> list:
    from invoices.pricing import vat_breakdown

    return vat_breakdown((category, rate, net) for category, rate, net in rows)


def _check_totals(label: str, breakdown, net: Decimal, vat: Decimal, gross: Decimal) -> None:
    computed_net = sum((row.taxable for row in breakdown), Decimal("0.00"))
    computed_vat = sum((row.vat for row in breakdown), Decimal("0.00"))
    if (computed_net, computed_vat, computed_net + computed_vat) != (net, vat, gross):
        raise ubl.TotalsMismatch(f"{label}: lines give {computed_net} + {computed_vat}, the header {net} + {vat}")


def _vat_rows(breakdown, language: str, currency: str) -> list[tuple[str, str, str, str]]:
    from invoices.models import VatCategory

    return [(str(VatCategory(row.category).label), f"{row.rate.normalize():f} %",
             pdf.format_money(row.taxable, language, currency), pdf.format_money(row.vat, language, currency))
            for row in breakdown]


def _party_lines(party: ubl.Party, registration: str) -> list[str]:
    return [party.name, party.street, f"{party.postal_code} {party.city}".strip(), registration,
            _("VAT no. %(number)s") % {"number": party.vat_id}]


class _Registration(RegistrationNumberDisplay):
    def __init__(self, country: str, registration_number: str):
        self.country, self.registration_number = country, registration_number


def _seller_lines(country: str) -> list[str]:
    seller, _payment = seller_for(country)
    return _party_lines(seller, _Registration(seller.country, seller.registration_number).registration)


def invoice_line_groups(invoice: Invoice, language: str) -> Iterator[tuple[str, list, str]]:
    """The specification per subscription: (heading, [(text, period, amount)], subtotal). The period is
    shown only for lines charged for part of the month."""
    rows = (InvoiceLine.objects.filter(invoice=invoice)
            .order_by("employee_name", "subscription_number", "position")
            .values_list("employee_name", "subscription_number", "description", "starts_on", "ends_on",
                         "net_amount").iterator(chunk_size=2000))
    whole_month = (invoice.period, invoice.period.replace(
        day=calendar.monthrange(invoice.period.year, invoice.period.month)[1]))
    current, lines, subtotal = None, [], Decimal("0.00")
    for employee, number, description, starts_on, ends_on, amount in rows:
        key = (employee, number)
        if key != current:
            if current is not None:
                yield _heading(current), lines, pdf.format_money(subtotal, language, invoice.currency)
            current, lines, subtotal = key, [], Decimal("0.00")
        # The days charged, when not the whole month invoiced (a line started, moved or cancelled).
        period = "" if not starts_on or (starts_on, ends_on) == whole_month else (
            f"{pdf.format_date(starts_on, language)}–{pdf.format_date(ends_on, language)}")
        lines.append((description, period, pdf.format_money(amount, language, invoice.currency)))
        subtotal += amount
    if current is not None:
        yield _heading(current), lines, pdf.format_money(subtotal, language, invoice.currency)


def _heading(key) -> str:
    employee, number = key
    if not employee and not number:
        return _("Account charges")
    return " – ".join(part for part in (employee, number) if part)


def invoice_pdf_content(invoice: Invoice) -> pdf.PdfContent:
    account, company = invoice.account, invoice.company
    language = pdf.LANGUAGE_BY_COUNTRY.get(company.country, "da")
    with translation.override(language):
        breakdown = _breakdown(InvoiceLine.objects.filter(invoice=invoice).values("vat_category", "vat_rate")
                               .annotate(net=Sum("net_amount")).values_list("vat_category", "vat_rate", "net"))
        _check_totals(f"invoice {invoice.number}", breakdown, invoice.net_total, invoice.vat_total, invoice.gross_total)
        money = lambda amount: pdf.format_money(amount, language, invoice.currency)  # noqa: E731
        facts = [(_("Invoice number"), str(invoice.number)),
                 (_("Issue date"), pdf.format_date(invoice.issue_date, language)),
                 (_("Due date"), pdf.format_date(invoice.due_date, language)),
                 (_("Period"), invoice.period.strftime("%m/%Y")),
                 (_("Account"), f"{account.number} {account.name}")]
        if account.ean:
            facts.append((_("EAN"), account.ean))
        facts.append((_("Payment reference"), invoice.payment_reference))
        credit_notes = list(CreditNote.objects.filter(invoice=invoice).order_by("number")
                            .values_list("number", flat=True))
        notice = _("Credited by credit note %(numbers)s.") % {"numbers": ", ".join(map(str, credit_notes))} \
            if credit_notes else ""
        return pdf.PdfContent(
            language=language, title=_("Invoice %(number)s") % {"number": invoice.number},
            seller_lines=_seller_lines(company.country),
            buyer_lines=_party_lines(buyer_for(account), company.registration),
            facts=facts, notice=notice,
            totals=[(_("Amount excl. VAT"), money(invoice.net_total)), (_("VAT"), money(invoice.vat_total)),
                    (_("Amount incl. VAT"), money(invoice.gross_total))],
            vat_rows=_vat_rows(breakdown, language, invoice.currency),
            rows=pdf.rows_from_groups(invoice_line_groups(invoice, language)),
        )


def credit_note_pdf_content(credit_note: CreditNote) -> pdf.PdfContent:
    invoice = credit_note.invoice
    account, company = invoice.account, credit_note.company
    language = pdf.LANGUAGE_BY_COUNTRY.get(company.country, "da")
    with translation.override(language):
        lines = list(CreditNoteLine.objects.filter(credit_note=credit_note).order_by("position")
                     .values_list("description", "vat_category", "vat_rate", "net_amount"))
        breakdown = _breakdown((category, rate, net) for _d, category, rate, net in lines)
        _check_totals(f"credit note {credit_note.number}", breakdown, credit_note.net_total, credit_note.vat_total,
                      credit_note.gross_total)
        money = lambda amount: pdf.format_money(amount, language, credit_note.currency)  # noqa: E731
        facts = [(_("Credit note number"), str(credit_note.number)),
                 (_("Issue date"), pdf.format_date(credit_note.issue_date, language)),
                 (_("Credits invoice"), str(invoice.number)),
                 (_("Account"), f"{account.number} {account.name}")]
        if account.ean:
            facts.append((_("EAN"), account.ean))
        facts.append((_("Payment reference"), invoice.payment_reference))
        facts.append((_("Reason"), credit_note.reason))
        group = (_("Credited"), [(description, "", money(net)) for description, _c, _r, net in lines],
                 money(credit_note.net_total))
        return pdf.PdfContent(
            language=language, title=_("Credit note %(number)s") % {"number": credit_note.number},
            seller_lines=_seller_lines(company.country),
            buyer_lines=_party_lines(buyer_for(account), company.registration),
            facts=facts,
            totals=[(_("Amount excl. VAT"), money(credit_note.net_total)), (_("VAT"), money(credit_note.vat_total)),
                    (_("Amount incl. VAT"), money(credit_note.gross_total))],
            vat_rows=_vat_rows(breakdown, language, credit_note.currency),
            rows=pdf.rows_from_groups([group]) if lines else [],
        )


def invoice_ubl_document(invoice: Invoice) -> ubl.BillingDocument:
    account = invoice.account
    seller, payment = seller_for(invoice.company.country)
    period_end = invoice.period.replace(day=calendar.monthrange(invoice.period.year, invoice.period.month)[1])
    lines = (ubl.Line(number=position, name=description, description=" ".join(filter(None, (employee, number))),
                      net_amount=amount, vat_rate=rate, vat_category=category, quantity=quantity, unit_price=price,
                      period_start=starts_on, period_end=ends_on)
             for position, description, employee, number, amount, rate, category, quantity, price, starts_on, ends_on
             in InvoiceLine.objects.filter(invoice=invoice).order_by("position").values_list(
                 "position", "description", "employee_name", "subscription_number", "net_amount", "vat_rate",
                 "vat_category", "quantity", "unit_price", "starts_on", "ends_on").iterator(chunk_size=2000))
    return ubl.BillingDocument(
        kind="invoice", number=str(invoice.number), issue_date=invoice.issue_date, due_date=invoice.due_date,
        currency=invoice.currency, seller=seller, buyer=buyer_for(account), payment=payment, lines=lines,
        net_total=invoice.net_total, vat_total=invoice.vat_total, total=invoice.gross_total,
        payment_reference=invoice.payment_reference, buyer_reference=account.number,
        period_start=invoice.period, period_end=period_end,
    )


def credit_note_ubl_document(credit_note: CreditNote) -> ubl.BillingDocument:
    invoice = credit_note.invoice
    seller, payment = seller_for(credit_note.company.country)
    lines = [ubl.Line(number=position, name=description, net_amount=amount, vat_rate=rate, vat_category=category,
                      quantity=quantity, unit_price=price)
             for position, description, amount, rate, category, quantity, price
             in CreditNoteLine.objects.filter(credit_note=credit_note).order_by("position").values_list(
                 "position", "description", "net_amount", "vat_rate", "vat_category", "quantity", "unit_price")]
    return ubl.BillingDocument(
        kind="credit_note", number=str(credit_note.number), issue_date=credit_note.issue_date,
        currency=credit_note.currency, seller=seller, buyer=buyer_for(invoice.account), payment=payment,
        lines=lines, net_total=credit_note.net_total, vat_total=credit_note.vat_total, total=credit_note.gross_total,
        payment_reference=invoice.payment_reference, buyer_reference=invoice.account.number,
        invoice_number=str(invoice.number), invoice_issue_date=invoice.issue_date, note=credit_note.reason,
    )


# Rendering (the worker) -------------------------------------------------------------------------------

def _load(document_id: int, *, lock: bool = False) -> InvoiceDocument | None:
    queryset = InvoiceDocument.objects.select_related(
        "invoice__account__company", "invoice__company", "credit_note__invoice__account__company",
        "credit_note__company")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.filter(pk=document_id).first()


def file_name(document: InvoiceDocument) -> str:
    extension = "pdf" if document.kind == Kind.PDF else "xml"
    if document.credit_note_id:
        return f"credit-note-{document.credit_note.number}.{extension}"
    return f"invoice-{document.invoice.number}.{extension}"


def render_bytes(document: InvoiceDocument, progress=None) -> bytes:
    if document.kind == Kind.PDF:
        content = (credit_note_pdf_content(document.credit_note) if document.credit_note_id
                   else invoice_pdf_content(document.invoice))
        return pdf.render_pdf(content, progress=progress)
    source = (credit_note_ubl_document(document.credit_note) if document.credit_note_id
              else invoice_ubl_document(document.invoice))
    return ubl.build_ubl(source)


def _set_progress(document_id: int, done: int, total: int) -> None:
    # Outside the claim's transaction (autocommit), so the page's polling sees it move.
    InvoiceDocument.objects.filter(pk=document_id, status=Status.RENDERING).update(
        progress=min(99, int(done * 100 / max(total, 1))), updated_at=timezone.now())


def document_render(*, document_id: int) -> bool:
    """Render one document if it is not current. True if this call stored a file."""
    with transaction.atomic():
        document = _load(document_id, lock=True)
        if document is None:
            return False
        version = document_version(document)
        if document.is_ready and document.rendered_version == version:
            return False
        document.version, document.status, document.progress = version, Status.RENDERING, 0
        document.attempts += 1
        document.save(update_fields=["version", "status", "progress", "attempts", "updated_at"])
    try:
        data = render_bytes(document, progress=lambda done, total: _set_progress(document_id, done, total))
    except Exception as error:
        logger.exception("document %s failed (attempt %s)", document_id, document.attempts)
        InvoiceDocument.objects.filter(pk=document_id).update(
            status=Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000], updated_at=timezone.now())
        if document.attempts >= MAX_ATTEMPTS:
            return False
        raise DocumentNotRendered(f"document {document_id}") from error

    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        document = _load(document_id, lock=True)
        if document is None:
            return False
        if document.version != version:  # changed while we rendered: the newer render wins
            return False
        old_name = document.file.name if document.file else ""
        document.file.save(f"{digest[:16]}-{file_name(document)}", ContentFile(data), save=False)
        document.status, document.progress, document.error = Status.READY, 100, ""
        document.rendered_version, document.content_hash, document.size = version, digest, len(data)
        document.rendered_at = timezone.now()
        fields = ["file", "status", "progress", "error", "rendered_version", "content_hash", "size", "rendered_at",
                  "updated_at"]
        if document.delivered_at is None:
            _deliver(document)
            document.delivered_at = timezone.now()
            fields.append("delivered_at")
        document.save(update_fields=fields)
        if old_name and old_name != document.file.name:
            storage = document.file.storage
            transaction.on_commit(lambda: storage.delete(old_name))
    return True


# Delivery (in the transaction that made the document ready) ------------------------------------------

def _deliver(document: InvoiceDocument) -> None:
    from invoices.einvoice_signup import invoice_recipients

    account = (document.credit_note.invoice if document.credit_note_id else document.invoice).account
    entry = attachment(name=document.file.name, filename=file_name(document),
                       content_type="application/pdf" if document.kind == Kind.PDF else "application/xml")
    language = pdf.LANGUAGE_BY_COUNTRY.get(account.company.country, "da")
    with translation.override(language):
        if document.credit_note_id:
            subject = _("Credit note %(number)s from %(seller)s") % {
                "number": document.credit_note.number, "seller": seller_for(account.company.country)[0].name}
        else:
            subject = _("Invoice %(number)s from %(seller)s") % {
                "number": document.invoice.number, "seller": seller_for(account.company.country)[0].name}
        if document.kind == Kind.UBL:
            if wants_ubl(account):
                outbox_enqueue_einvoice(to=account.ean, subject=subject, document=entry)
            return
        recipients = invoice_recipients(account)
        if not recipients:
            return
        body = render_to_string("invoices/pdf/email.txt", {
            "account": account, "document": document, "invoice": document.invoice,
            "credit_note": document.credit_note,
        })
        for address in recipients:
            outbox_enqueue_email(to=address, subject=subject, body=body, attachments=[entry])


def stale_document_ids(*, older_than_minutes: int = 10) -> list[int]:
    """Documents whose task should have finished by now (lost in a broker restart, a killed worker)."""
    cutoff = timezone.now() - timezone.timedelta(minutes=older_than_minutes)
    return list(InvoiceDocument.objects.filter(status__in=(Status.PENDING, Status.RENDERING), updated_at__lt=cutoff)
                .order_by("updated_at").values_list("pk", flat=True)[:200])
