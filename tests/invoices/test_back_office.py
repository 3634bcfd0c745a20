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
from invoices.models import CreditNote, Invoice, NumberSequence
from invoices.services import credit_note_issue, invoices_daily, parse_line_positions
from selfcare.jobs.models import Job
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
    job = Job.objects.get()
    assert (job.kind, job.params, job.operator, job.company, job.created_by) == (
        "invoices.billing_run", {"period": "2026-11-01"}, True, None, None)


def _three_accounts():
    company = CompanyFactory()
    plan = PricePlanFactory(code="bo-plan", name="Mobil 79", monthly_fee=Decimal("79.00"))
    for _ in range(3):
        SubscriptionFactory(company=company, account=BillingAccountFactory(company=company), plan=plan,
                            activated_on=date(2025, 1, 1))
    return company


def test_staff_start_a_billing_run_and_a_worker_runs_it(celery_worker, transactional_db):
    company = _three_accounts()
    client = verified_client(StaffUserFactory())

    form = client.get(reverse("admin:invoices_invoice_billing_run"))
    assert "Start the billing run" in form.content.decode()
    assert reverse("admin:invoices_invoice_billing_run") in client.get(
        reverse("admin:invoices_invoice_changelist")).content.decode()
    response = client.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-10"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:jobs_job_change", args=[job.pk])
    assert (job.kind, job.operator, job.company_id) == ("invoices.billing_run", True, None)

    wait_for(lambda: Job.objects.get().status == Job.Status.DONE, timeout=30)
    job.refresh_from_db()
    assert (job.total, job.processed, job.failed) == (3, 3, 0)
    assert Invoice.objects.filter(company=company, period=date(2026, 10, 1)).count() == 3
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert "Finished." in page and "3 succeeded" in page and 'class="job-progress"' in page
    report = client.get(reverse("admin:jobs_job_result", args=[job.pk]))
    assert report["Content-Disposition"].startswith('attachment; filename="billing-run-2026-10.csv"')
    first, last = Invoice.objects.filter(company=company).order_by("number").values_list("number", flat=True)[::2]
    assert b"".join(report.streaming_content).decode().splitlines()[1] == f"2026-10;3;3;3;{first};{last}"

    # The month again: a new job (the first has finished) that issues nothing new.
    client.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-10"})
    second = Job.objects.exclude(pk=job.pk).get()
    wait_for(lambda: Job.objects.get(pk=second.pk).status == Job.Status.DONE, timeout=30)
    assert Invoice.objects.filter(company=company).count() == 3


@pytest.mark.django_db
def test_a_double_click_starts_one_run_per_month(staff, django_capture_on_commit_callbacks):
    client = verified_client(staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-10"})
        second = client.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-10"})
        client.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-09"})
    assert first["Location"] == second["Location"]
    assert sorted(Job.objects.values_list("key", flat=True)) == ["2026-09-01", "2026-10-01"]
    assert len(callbacks) == 2  # one task per month
    assert Job.objects.get(key="2026-10-01").created_by == staff


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_make_one_job():
    """Beat and staff at the same moment, on two connections: the unique index lets one in, the other
    gets that job back."""
    import threading

    from django.db import connection

    from invoices.services import billing_run_start

    barrier, found = threading.Barrier(2), []

    def start():
        try:
            barrier.wait(5)
            found.append(billing_run_start(period=date(2026, 10, 1)).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert len(found) == 2 and found[0] == found[1] and Job.objects.count() == 1


@pytest.mark.django_db
def test_the_page_follows_a_running_billing_run_without_a_reload(staff):
    from invoices.services import billing_run_start

    job = billing_run_start(period=date(2026, 10, 1), started_by=staff)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, total=40, processed=10)
    client = verified_client(staff)
    url = reverse("admin:jobs_job_change", args=[job.pk])
    page = client.get(url).content.decode()
    assert f'hx-get="{url}"' in page and 'hx-trigger="every 1s"' in page and "htmx.min.js" in page
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "10 of 40 done" in fragment and 'value="25"' in fragment and "<html" not in fragment


@pytest.mark.django_db
def test_a_failed_or_interrupted_billing_run_is_shown_and_can_be_started_again(staff, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from invoices import billing
    from invoices.services import billing_run_start
    from selfcare.jobs.services import job_run, job_sweep_interrupted

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(billing, "billing_run", broken)
    job = billing_run_start(period=date(2026, 10, 1), started_by=staff)
    assert job_run(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.failure == Job.Failure.ERROR
    page = verified_client(staff).get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert "error on our side" in page and "database gone" not in page and "every 1s" not in page

    again = billing_run_start(period=date(2026, 10, 1), started_by=staff)
    assert again.pk != job.pk
    Job.objects.filter(pk=again.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert job_sweep_interrupted() == 1
    assert Job.objects.get(pk=again.pk).failure == Job.Failure.INTERRUPTED
    assert billing_run_start(period=date(2026, 10, 1)).pk not in (job.pk, again.pk)


@pytest.mark.django_db
def test_customers_never_see_an_operator_job(staff, company, superuser):
    """Not in their company, not as its starter's colleague: every customer-side job URL is a 404."""
    from django.core.files.base import ContentFile

    from invoices.services import billing_run_start

    job = billing_run_start(period=date(2026, 10, 1), started_by=staff)
    job.status = Job.Status.DONE
    job.result.save("billing-run-2026-10.csv", ContentFile(b"month\n"), save=False)
    job.result_name = "billing-run-2026-10.csv"
    job.save()
    for user in (superuser, make_member(CompanyFactory()).user):
        client = verified_client(user)
        for route in ("jobs:detail", "jobs:result"):
            assert client.get(reverse(route, args=[job.pk])).status_code == 404
            assert client.get(reverse(route, args=[job.pk]), HTTP_HX_REQUEST="true").status_code == 404
    # Nor can a customer start one, or reach it in the back office.
    customer = verified_client(superuser)
    customer.post(reverse("admin:invoices_invoice_billing_run"), {"month": "2026-09"})
    assert customer.get(reverse("admin:jobs_job_change", args=[job.pk])).status_code == 302
    assert customer.get(reverse("admin:jobs_job_result", args=[job.pk])).status_code == 302
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_job_without_company_unless_it_is_an_operator_job(company, superuser):
    from django.db import IntegrityError, transaction

    for fields in ({"operator": False, "company": None, "created_by": superuser},
                   {"operator": False, "company": company, "created_by": None},
                   {"operator": True, "company": company, "created_by": superuser}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Job.objects.create(kind="invoices.billing_run", title="x", **fields)
    with pytest.raises(PermissionError):  # only staff (or beat) start an operator job
        from invoices.services import billing_run_start

        billing_run_start(period=date(2026, 10, 1), started_by=superuser)


# The audit log: staff's payments and credit notes, in the company's log as the operator's -----------

@pytest.mark.django_db
def test_staff_payments_and_credit_notes_are_in_the_companys_audit_log_as_the_operator(account, superuser):
    import csv
    import io

    from accounts.models import AuditEvent

    staff = StaffUserFactory(email="olivia@operator.example")
    invoice = invoice_with_lines(account=account, lines=3)
    other = InvoiceFactory(account=account, company=account.company, period=date(2026, 9, 1), status="overdue")
    elsewhere = invoice_with_lines(account=BillingAccountFactory(company=CompanyFactory()), lines=1)
    client = verified_client(staff)
    client.post(reverse("admin:invoices_invoice_credit", args=[invoice.pk]),
                {"reason": "Dobbelt", "scope": "lines", "lines": "2"})
    client.post(reverse("admin:invoices_invoice_paid", args=[other.pk]))
    client.post(reverse("admin:invoices_invoice_paid", args=[other.pk]))  # already paid: nothing recorded
    client.post(reverse("admin:invoices_invoice_changelist"),
                {"action": "mark_paid", "_selected_action": [invoice.pk, elsewhere.pk]})

    events = AuditEvent.objects.filter(company=account.company).order_by("pk")
    assert [event.action for event in events] == ["credit_note_issued", "invoice_marked_paid", "invoice_marked_paid"]
    assert all(event.actor == staff and event.by_operator for event in events)
    note = CreditNote.objects.get(invoice=invoice)
    assert events[0].changes == {"credit_note": [None, note.number], "invoice": [None, invoice.number],
                                 "amount": [None, f"{note.gross_total} DKK"], "reason": [None, "Dobbelt"]}
    assert events[1].changes == {"invoice": [None, other.number], "invoice_status": ["overdue", "paid"]}
    # The other company's invoice is in its own log only.
    assert AuditEvent.objects.get(company=elsewhere.company).changes["invoice"] == [None, elsewhere.number]

    customer = verified_client(superuser)
    page = customer.get(reverse("accounts:audit_log"))
    html = page.content.decode()
    assert "Credit note issued" in html and "Invoice marked paid" in html and "The operator" in html
    field = '<span class="changes__field">{}</span>: {} → {}'.format
    assert field("Invoice no.", "–", other.number) in html and field("Invoice status", "Overdue", "Paid") in html
    assert field("Credit note no.", "–", note.number) in html and account.number in html
    assert "olivia@operator.example" not in html
    assert not customer.get(reverse("accounts:audit_log"), {"q": "olivia@"}).context["list_page"].rows
    export = customer.get(reverse("accounts:audit_log_export"))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert {row[1] for row in rows[1:]} == {"The operator"} and "olivia@" not in str(rows)
