"""The operator's side: billing runs from the back office (with a real worker), marking invoices paid,
credit notes in full or for chosen lines, the overdue job and the beat entry."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse

from accounts.permissions import Role
from invoices.billing import invoices_mark_overdue
from invoices.models import BillingRun, CreditNote, Invoice, NumberSequence
from invoices.services import credit_note_issue, invoices_daily, parse_line_positions
from tests.conftest import make_member, verified_client, wait_for
from tests.factories import (
    BillingAccountFactory,
    CompanyFactory,
    PricePlanFactory,
    StaffUserFactory,
    SubscriptionFactory,
)
from tests.invoices.factories import InvoiceFactory, invoice_with_lines


@pytest.fixture
def staff(db):
    return StaffUserFactory()


@pytest.mark.django_db
def test_full_credit_note_credits_every_line_and_marks_the_invoice_credited(account):
    invoice = invoice_with_lines(account=account, lines=3)

    note = credit_note_issue(invoice=invoice, reason="Fejlfaktureret")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CREDITED
    assert (note.net_total, note.vat_total, note.gross_total) == (invoice.net_total, invoice.vat_total,
                                                                 invoice.gross_total)
    assert note.lines.count() == 3 and note.lines.aggregate(total=Sum("net_amount"))["total"] == invoice.net_total
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="Igen")


@pytest.mark.django_db
def test_partial_credit_notes_number_gaplessly_and_never_credit_a_line_twice(account):
    invoice = invoice_with_lines(account=account, lines=5)
    start = NumberSequence.objects.get(name="credit_note").last_number

    first = credit_note_issue(invoice=invoice, reason="Linje 1-2", positions=[1, 2])
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="Igen", positions=[2, 3])
    second = credit_note_issue(invoice=invoice, reason="Resten")

    assert (first.number, second.number) == (start + 1, start + 2)
    assert first.gross_total == Decimal("250.00") and second.net_total == Decimal("300.00")
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.CREDITED


def test_line_positions_are_read_like_a_print_dialog():
    assert parse_line_positions("1, 4-6;9") == [1, 4, 5, 6, 9]
    for wrong in ("a", "5-2", "1-"):
        with pytest.raises(ValidationError):
            parse_line_positions(wrong)


@pytest.mark.django_db
def test_staff_issue_a_credit_note_and_mark_paid_in_the_back_office(account, staff):
    invoice = invoice_with_lines(account=account, lines=4)
    other = InvoiceFactory(account=account, company=account.company, period=date(2026, 9, 1))
    client = verified_client(staff)

    page = client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk])).content.decode()
    assert "Issue a credit note" in page and "Mark the invoice paid" in page
    response = client.post(reverse("admin:invoices_invoice_credit", args=[invoice.pk]),
                           {"reason": "Dobbelt", "scope": "lines", "lines": "2-3"})
    assert response.status_code == 302
    note = CreditNote.objects.get(invoice=invoice)
    assert sorted(note.lines.values_list("invoice_line__position", flat=True)) == [2, 3]
    refused = client.post(reverse("admin:invoices_invoice_credit", args=[invoice.pk]),
                          {"reason": "Igen", "scope": "lines", "lines": "3"})
    assert refused.status_code == 200 and "have been credited already" in refused.content.decode()

    client.post(reverse("admin:invoices_invoice_paid", args=[other.pk]))
    assert Invoice.objects.get(pk=other.pk).status == Invoice.Status.PAID
    client.post(reverse("admin:invoices_invoice_changelist"), {"action": "mark_paid", "_selected_action": [invoice.pk]})
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


@pytest.mark.django_db
def test_customers_cannot_use_the_back_office(account):
    invoice = invoice_with_lines(account=account, lines=1)
    customer = verified_client(make_member(account.company, Role.SUPERUSER).user)
    customer.post(reverse("admin:invoices_invoice_credit", args=[invoice.pk]), {"reason": "x", "scope": "all"})
    customer.post(reverse("admin:invoices_invoice_paid", args=[invoice.pk]))
    assert not CreditNote.objects.exists() and Invoice.objects.get(pk=invoice.pk).status == "open"


@pytest.mark.django_db
def test_open_invoices_past_due_become_overdue(account):
    due = InvoiceFactory(account=account, company=account.company, due_date=date(2026, 11, 30))
    later = InvoiceFactory(account=account, company=account.company, period=date(2026, 9, 1),
                           due_date=date(2026, 12, 1))
    paid = InvoiceFactory(account=account, company=account.company, period=date(2026, 8, 1),
                          due_date=date(2026, 11, 1), status="paid")

    assert invoices_mark_overdue(today=date(2026, 12, 1)) == 1

    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "overdue", later.pk: "open", paid.pk: "paid"}


def test_the_daily_beat_entry_exists():
    entry = settings.CELERY_BEAT_SCHEDULE["invoices-daily"]
    assert entry["task"] == "invoices.tasks.invoices_daily_task"


@pytest.mark.django_db
def test_the_daily_job_starts_the_previous_month_on_the_first(django_capture_on_commit_callbacks):
    assert invoices_daily(today=date(2026, 12, 2))["billing_run"] is None
    with django_capture_on_commit_callbacks(execute=False):
        outcome = invoices_daily(today=date(2026, 12, 1))
        again = invoices_daily(today=date(2026, 12, 1))
    assert outcome["billing_run"] == again["billing_run"]  # one run waiting per month
    assert BillingRun.objects.get().period == date(2026, 11, 1)


def test_staff_start_a_billing_run_and_a_worker_runs_it(celery_worker, transactional_db):
    company = CompanyFactory()
    plan = PricePlanFactory(code="bo-plan", name="Mobil 79", monthly_fee=Decimal("79.00"))
    for _ in range(3):
        SubscriptionFactory(company=company, account=BillingAccountFactory(company=company), plan=plan,
                            activated_on=date(2025, 1, 1))
    client = verified_client(StaffUserFactory())

    form = client.get(reverse("admin:invoices_billingrun_add"))
    assert "Start the billing run" in form.content.decode()
    response = client.post(reverse("admin:invoices_billingrun_add"), {"month": "2026-10"})
    run = BillingRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{run.pk}/change/")

    wait_for(lambda: BillingRun.objects.get().status == BillingRun.Status.DONE)
    run.refresh_from_db()
    assert (run.invoices_issued, run.accounts_done, run.accounts_total) == (3, 3, 3)
    assert Invoice.objects.filter(company=company, period=date(2026, 10, 1)).count() == 3
    page = client.get(reverse("admin:invoices_billingrun_change", args=[run.pk])).content.decode()
    assert "3 invoices with 3 lines issued" in page
