"""Writes of the invoices area: the operator's side (billing runs, payments, credit notes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, Company
from accounts.services.audit import audit_record
from invoices import pricing
from invoices.billing import invoices_mark_overdue, previous_month
from invoices.documents import schedule_credit_note_documents
from invoices.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, NumberSequence
from invoices.numbering import series_advance, series_lock
from selfcare.jobs.models import Job
from selfcare.jobs.services import operator_job_create

# --- billing runs ---------------------------------------------------------------------------------

def billing_run_start(*, period: date, started_by=None) -> Job:
    """The billing run of ``period`` as an operator job (``invoices.jobs``), run by a jobs worker once
    the caller commits; ``started_by`` is the staff member, None for beat. A run of the month that has
    not finished is returned instead of a second one (a double click, or beat and staff at once)."""
    from invoices.jobs import BILLING_RUN

    period = period.replace(day=1)
    return operator_job_create(started_by=started_by, kind=BILLING_RUN, key=period.isoformat(),
                               title=_("Billing run %(month)s") % {"month": f"{period:%Y-%m}"},
                               params={"period": period.isoformat()})


def invoices_daily(*, today: date | None = None) -> dict:
    """The beat job: overdue invoices marked; on the 1st, the previous month's billing run."""
    today = today or timezone.localdate()
    outcome = {"overdue": invoices_mark_overdue(today=today), "billing_run": None}
    if today.day == 1:
        run = billing_run_start(period=previous_month(today))
        outcome["billing_run"] = run.pk
    return outcome


# --- payments --------------------------------------------------------------------------------------

@transaction.atomic
def invoices_mark_paid(*, invoices, paid_at=None, actor=None, request=None) -> int:
    """Open or overdue invoices become paid (staff in the back office). Returns how many changed. Each
    is recorded in its company's audit log (by the operator)."""
    changed = list(Invoice.objects.select_for_update(of=("self",))
                   .filter(pk__in=[invoice.pk for invoice in invoices], status__in=Invoice.UNPAID)
                   .values_list("pk", "company_id", "number", "status", "account__number", "account__name"))
    Invoice.objects.filter(pk__in=[row[0] for row in changed]).update(status=Invoice.Status.PAID,
                                                                       paid_at=paid_at or timezone.now())
    for _pk, company_id, number, status, account_number, account_name in changed:
        audit_record(action=AuditEvent.Action.INVOICE_MARKED_PAID, actor=actor, company=Company(pk=company_id),
                     request=request, target_label=f"{account_number} {account_name}",
                     changes={"invoice": [None, number], "invoice_status": [status, Invoice.Status.PAID.value]})
    return len(changed)


# --- credit notes ----------------------------------------------------------------------------------

def parse_line_positions(text: str) -> list[int]:
    """ "1, 4-6" → [1, 4, 5, 6] (the back office's way of choosing lines of a long invoice)."""
    positions: set[int] = set()
    for part in (piece.strip() for piece in text.replace(";", ",").split(",")):
        if not part:
            continue
        first, _sep, last = part.partition("-")
        if not first.strip().isdigit() or (_sep and not last.strip().isdigit()):
            raise ValidationError(_("Write line numbers like “1, 4-6”."))
        low, high = int(first), int(last or first)
        if high < low or high - low > 100_000:
            raise ValidationError(_("Write line numbers like “1, 4-6”."))
        positions.update(range(low, high + 1))
    return sorted(positions)


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, reason: str, positions: list[int] | None = None,
                      actor=None, request=None) -> CreditNote:
    """A credit note against ``invoice``: every line not yet credited (``positions`` None), or the
    chosen lines. Numbered from its own gapless series in this transaction. When every line of the
    invoice has been credited, the invoice's status is "credited"."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.CREDITED:
        raise ValidationError(_("The invoice has already been credited in full."))
    lines = InvoiceLine.objects.filter(invoice=invoice, credit_lines__isnull=True)
    if positions is not None:
        lines = lines.filter(position__in=positions)
    lines = list(lines.order_by("position"))
    if positions is not None and len(lines) != len(set(positions)):
        found = {line.position for line in lines}
        missing = ", ".join(str(p) for p in sorted(set(positions) - found)[:10])
        raise ValidationError(_("These lines are not on the invoice or have been credited already: %(lines)s")
                              % {"lines": missing})
    if not lines:
        raise ValidationError(_("Every line of the invoice has been credited already."))
    net, vat, gross = pricing.totals((line.vat_category, line.vat_rate, line.net_amount) for line in lines)
    last = series_lock(NumberSequence.Name.CREDIT_NOTE)
    note = CreditNote.objects.create(
        company_id=invoice.company_id, invoice=invoice, number=last + 1, issue_date=timezone.localdate(),
        reason=reason, currency=invoice.currency, net_total=net, vat_total=vat, gross_total=gross, created_by=actor,
    )
    CreditNoteLine.objects.bulk_create([
        CreditNoteLine(company_id=invoice.company_id, credit_note=note, position=index, invoice_line=line,
                       description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                       net_amount=line.net_amount, vat_category=line.vat_category, vat_rate=line.vat_rate)
        for index, line in enumerate(lines, start=1)
    ], batch_size=5000)
    series_advance(NumberSequence.Name.CREDIT_NOTE, last + 1)
    if not InvoiceLine.objects.filter(invoice=invoice, credit_lines__isnull=True).exists():
        invoice.status = Invoice.Status.CREDITED
        invoice.save(update_fields=["status"])
    account = invoice.account
    audit_record(action=AuditEvent.Action.CREDIT_NOTE_ISSUED, actor=actor, company=invoice.company, request=request,
                 target_label=f"{account.number} {account.name}",
                 changes={"credit_note": [None, note.number], "invoice": [None, invoice.number],
                          "amount": [None, f"{note.gross_total} {note.currency}"], "reason": [None, reason]})
    schedule_credit_note_documents([note.pk])  # the credit note's PDF/UBL, the invoice's PDF again
    return note


def credited_total(invoice: Invoice) -> Decimal:
    from django.db.models import Sum

    return invoice.credit_notes.aggregate(total=Sum("gross_total"))["total"] or Decimal("0.00")


__all__ = ["billing_run_start", "credit_note_issue", "invoices_daily",
           "invoices_mark_paid", "parse_line_positions"]
