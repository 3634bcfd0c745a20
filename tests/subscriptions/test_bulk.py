"""Bulk actions on the subscription list: the services, the job and its per-line result."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import formats, translation

from accounts.permissions import ALL_PERMISSIONS, Permission
from selfcare.jobs.models import Job
from selfcare.jobs.services import job_run
from subscriptions.bulk import JOB_KIND, bulk_change_start
from subscriptions.models import ChangeRequest, Subscription, SubscriptionEvent
from subscriptions.services import (
    change_request_create,
    change_requests_complete_many,
    change_requests_create_many,
    change_requests_submit_many,
)
from tests.concurrency import run_held_at
from tests.conftest import make_member, wait_for
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory

Action = ChangeRequest.Action
HEADER = ["Line", "Number", "Employee", "Outcome", "Reason"]
NOT_YOURS = "Not found, or not one of your lines."


def result_rows(job) -> list[list[str]]:
    """The job's result file read back as a spreadsheet would: header, then a row per line."""
    job.refresh_from_db()
    with job.result.open("rb") as file:
        text = file.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    return rows[1:]


def by_line(job) -> dict[int, list[str]]:
    return {int(row[0]): row for row in result_rows(job)}


def start(membership, action, ids, params=None, token="t" * 20):
    with transaction.atomic():
        job, _created = bulk_change_start(membership=membership, action=action, params=params or {}, ids=ids,
                                          token=token)
    return job


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def estate(db):
    """A company with three lines on one account, one on another, and a line of another company."""
    company = CompanyFactory()
    account, other_account = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    lines = [SubscriptionFactory(account=account, employee_name=f"Ansat {n}", number=f"+45 2000000{n}")
             for n in range(3)]
    elsewhere = SubscriptionFactory(account=other_account, employee_name="Anden konto")
    foreign = SubscriptionFactory(employee_name="Fremmed", number="+45 30303030")
    return {"company": company, "account": account, "other_account": other_account, "lines": lines,
            "elsewhere": elsewhere, "foreign": foreign}


# The whole way: a real worker, the simulator's batch, the result -------------------------------------

def test_a_bulk_block_goes_through_the_simulator_and_reports_each_line(celery_worker, settings):
    settings.PROVISIONING_SIMULATOR_DELAY = 0.2
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    ok = SubscriptionFactory(account=account, number="+45 20001111", employee_name="Astrid")
    refused_by_operator = SubscriptionFactory(account=account, number="+45 20009999", employee_name="Bo")
    already = SubscriptionFactory(account=account, number="+45 20002222", employee_name="Carl",
                                  status=Subscription.Status.BLOCKED)
    foreign = SubscriptionFactory(number="+45 30303030", employee_name="Fremmed")
    admin = make_member(company)
    ids = [ok.pk, refused_by_operator.pk, already.pk, foreign.pk, 999_999_999]
    job = start(admin, Action.BLOCK, ids, {"reason": "stolen"})

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and (job.total, job.processed, job.failed) == (5, 5, 4)
    rows = by_line(job)
    assert [row[3:] for row in rows.values()] == [
        ["Done", ""],
        ["Failed", "The operator's system refused the change for this number."],
        ["Refused", "The subscription is already blocked."],
        ["Not found", NOT_YOURS],
        ["Not found", NOT_YOURS],
    ]
    assert rows[ok.pk][1:3] == ["'+45 20001111", "Astrid"]  # a leading + is neutralised, as in every export
    # Nothing about the foreign line leaks into the result.
    assert rows[foreign.pk][1:3] == ["", ""] and "Fremmed" not in str(rows) and "30303030" not in str(rows)
    ok.refresh_from_db(), foreign.refresh_from_db(), refused_by_operator.refresh_from_db()
    assert (ok.status, ok.block_reason) == ("blocked", "stolen")
    assert foreign.status == refused_by_operator.status == "active"
    assert not ChangeRequest.objects.filter(subscription=foreign).exists()
    # The single-line history is the same as for a block from the employee's page.
    event = SubscriptionEvent.objects.get(subscription=ok, action=Action.BLOCK)
    assert event.actor == admin.user and event.after["status"] == "blocked"


def test_answers_still_missing_when_the_wait_is_over_are_reported_pending(estate, settings):
    settings.BULK_CHANGE_WAIT_SECONDS = 0
    admin = make_member(estate["company"])
    job = start(admin, Action.BLOCK, [line.pk for line in estate["lines"]], {"reason": "lost"})
    assert job_run(job_id=job.pk) is True  # no worker: the changes stay with the port
    assert {row[3] for row in result_rows(job)} == {"Still pending"}
    assert ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).count() == 3


# Each action, by the single-line rules --------------------------------------------------------------

def test_invoice_notes_are_set_at_once_with_their_history(estate):
    admin = make_member(estate["company"])
    lines = estate["lines"]
    terminated = SubscriptionFactory(account=estate["account"], status=Subscription.Status.TERMINATED)
    job = start(admin, "invoice_note", [*[line.pk for line in lines], terminated.pk, estate["foreign"].pk],
                {"invoice_note": "Afd. 7"})
    job_run(job_id=job.pk)
    rows = by_line(job)
    assert [rows[line.pk][3] for line in lines] == ["Done"] * 3
    assert rows[terminated.pk][3:] == ["Refused", "The subscription is terminated: it cannot be changed."]
    assert rows[estate["foreign"].pk][3:] == ["Not found", NOT_YOURS]
    assert set(Subscription.objects.filter(pk__in=[line.pk for line in lines]).values_list("invoice_note", flat=True)) \
        == {"Afd. 7"}
    assert Subscription.objects.get(pk=estate["foreign"].pk).invoice_note == ""
    assert SubscriptionEvent.objects.filter(action="invoice_note", actor=admin.user).count() == 3


def test_plan_account_and_unblock_changes_use_the_single_line_rules(estate):
    admin = make_member(estate["company"])
    first, second, third = estate["lines"]
    plan = PricePlanFactory(code="bulk-plan", name="Bulk 50 GB")
    other_kind = PricePlanFactory(code="bulk-broadband", name="Fiber", type=Subscription.Type.INTERNET)

    outcomes = change_requests_create_many(membership=admin, subscription_ids=[first.pk, second.pk],
                                           action=Action.CHANGE_PLAN, params={"plan_id": plan.pk, "when": "now"})
    assert all(isinstance(outcome, ChangeRequest) for outcome in outcomes.values())
    refused = change_requests_create_many(membership=admin, subscription_ids=[third.pk], action=Action.CHANGE_PLAN,
                                          params={"plan_id": other_kind.pk})
    assert refused[third.pk].messages == ["Choose one of the price plans offered for this kind of subscription."]

    moved = change_requests_create_many(membership=admin, subscription_ids=[first.pk], action=Action.MOVE_ACCOUNT,
                                        params={"account_id": estate["other_account"].pk})
    assert moved[first.pk].params == {"account_id": estate["other_account"].pk,
                                      "account": estate["other_account"].number}
    unblock = change_requests_create_many(membership=admin, subscription_ids=[first.pk], action=Action.UNBLOCK)
    assert unblock[first.pk].messages == ["The subscription is not blocked."]

    ids = list(ChangeRequest.objects.values_list("pk", flat=True))
    assert change_requests_submit_many(change_ids=ids) == 3
    assert change_requests_submit_many(change_ids=ids) == 0  # handed over once
    assert change_requests_complete_many(answers=[(pk, True) for pk in ids]) == 3
    assert change_requests_complete_many(answers=[(pk, True) for pk in ids]) == 0  # answered once
    first.refresh_from_db(), second.refresh_from_db()
    assert first.plan == second.plan == plan and first.account == estate["other_account"]


def test_an_open_request_is_reused_not_doubled(estate):
    admin = make_member(estate["company"])
    line = estate["lines"][0]
    with transaction.atomic():
        single = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                       params={"reason": "lost"})
    outcomes = change_requests_create_many(membership=admin, subscription_ids=[line.pk], action=Action.BLOCK,
                                           params={"reason": "lost"})
    assert outcomes[line.pk].pk == single.pk
    assert ChangeRequest.objects.filter(subscription=line).count() == 1


# Scope and permissions -----------------------------------------------------------------------------

def test_foreign_and_out_of_scope_ids_change_nothing_and_the_result_says_so(estate):
    restricted = make_member(estate["company"], accounts=[estate["account"]])
    own = estate["lines"][0]
    job = start(restricted, "invoice_note", [own.pk, estate["elsewhere"].pk, estate["foreign"].pk],
                {"invoice_note": "Cost 1"})
    job_run(job_id=job.pk)
    rows = by_line(job)
    assert rows[own.pk][3] == "Done"
    for outsider in (estate["elsewhere"], estate["foreign"]):
        assert rows[outsider.pk][1:] == ["", "", "Not found", NOT_YOURS]
        outsider.refresh_from_db()
        assert outsider.invoice_note == ""
    outcomes = change_requests_create_many(membership=restricted, action=Action.BLOCK, params={"reason": "lost"},
                                           subscription_ids=[estate["elsewhere"].pk, estate["foreign"].pk])
    assert outcomes == {} and not ChangeRequest.objects.exists()


@pytest.mark.parametrize(("action", "permission"), [
    (Action.BLOCK, Permission.BLOCK_SIM), (Action.UNBLOCK, Permission.BLOCK_SIM),
    (Action.CHANGE_PLAN, Permission.MANAGE_SUBSCRIPTIONS), (Action.MOVE_ACCOUNT, Permission.MANAGE_SUBSCRIPTIONS),
    ("invoice_note", Permission.MANAGE_SUBSCRIPTIONS),
])
def test_each_action_needs_its_own_permission(estate, action, permission):
    without = make_member(estate["company"], permissions=ALL_PERMISSIONS - {permission})
    with pytest.raises(PermissionDenied):
        start(without, action, [estate["lines"][0].pk])
    assert not Job.objects.exists()
    make_member(estate["company"], permissions={permission})  # and with it, it starts
    start(make_member(estate["company"], permissions={permission}), action, [estate["lines"][0].pk])
    assert Job.objects.count() == 1


def test_a_permission_lost_before_the_job_runs_changes_nothing(estate):
    admin = make_member(estate["company"])
    job = start(admin, Action.BLOCK, [estate["lines"][0].pk], {"reason": "lost"})
    admin.permissions = sorted(ALL_PERMISSIONS - {Permission.BLOCK_SIM})
    admin.role = "custom"
    admin.save()
    job_run(job_id=job.pk)
    assert result_rows(job)[0][3:] == ["Refused", "You no longer have access to this change."]
    assert not ChangeRequest.objects.exists()


# Exactly one job per confirmation -------------------------------------------------------------------

def test_the_same_confirmation_twice_makes_one_job(estate):
    admin = make_member(estate["company"])
    first = start(admin, Action.BLOCK, [estate["lines"][0].pk], {"reason": "lost"}, token="x" * 24)
    again = start(admin, Action.BLOCK, [estate["lines"][0].pk], {"reason": "lost"}, token="x" * 24)
    assert first.pk == again.pk and Job.objects.filter(kind=JOB_KIND).count() == 1
    other_form = start(admin, Action.BLOCK, [estate["lines"][0].pk], {"reason": "lost"}, token="y" * 24)
    assert other_form.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_the_same_moment_make_one_job():
    """Two connections submit the same form at once; each is held right where it would create the job."""
    company = CompanyFactory()
    line = SubscriptionFactory(account=BillingAccountFactory(company=company))
    admin = make_member(company)

    def submit():
        with transaction.atomic():
            job, created = bulk_change_start(membership=admin, action=Action.BLOCK, params={"reason": "lost"},
                                             ids=[line.pk], token="z" * 24)
        return job.pk, created

    run = run_held_at("subscriptions.bulk.job_create", submit, submit)
    assert run.second_while_held == "lock", "the second submit went on while the first was creating its job"
    (first_job, first_created), (second_job, second_created) = run.first.value(), run.second.value()
    assert (first_created, second_created) == (True, False) and first_job == second_job
    assert Job.objects.filter(kind=JOB_KIND).count() == 1


def test_the_result_is_in_the_language_of_the_login_that_started_it(estate):
    admin = make_member(estate["company"], language="da")
    job = start(admin, "invoice_note", [estate["lines"][0].pk, estate["foreign"].pk], {"invoice_note": "Afd. 7"})
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.result_name == f"resultat-{job.pk}.csv"
    with job.result.open("rb") as file:
        rows = list(csv.reader(io.StringIO(file.read().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Linje", "Nummer", "Medarbejder", "Resultat", "Årsag"]
    assert [row[3] for row in rows[1:]] == ["Udført", "Ikke fundet"]
    assert rows[2][4] == "Ikke fundet, eller ikke en af dine linjer."


def test_the_bulk_benchmark_blocks_its_own_lines_and_cleans_up(celery_worker, settings):
    from accounts.models import Company
    from selfcare.bench.bulk import bench_bulk

    settings.PROVISIONING_SIMULATOR_DELAY = 0.1
    result = bench_bulk(lines=40, failing=2, external_worker=True, report=lambda *args: None)
    assert result.status == Job.Status.DONE and (result.succeeded, result.failed) == (38, 2)
    assert result.outcomes == {"completed": 38, "failed": 2} and result.progress[-1][1] == 40
    assert not Company.objects.filter(name__startswith="BENCH Bulk").exists() and not Job.objects.exists()


def test_a_plan_change_from_next_month_is_accepted_and_waits_for_its_date(celery_worker, settings):
    from subscriptions.services import first_of_next_month

    settings.PROVISIONING_SIMULATOR_DELAY = 0.1
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    mobile = SubscriptionFactory(account=account, employee_name="Mobil")
    broadband = SubscriptionFactory(account=account, employee_name="Fiber", type=Subscription.Type.INTERNET)
    plan = PricePlanFactory(code="bulk-next", name="Bulk næste måned")
    job = start(make_member(company), Action.CHANGE_PLAN, [mobile.pk, broadband.pk],
                {"plan_id": plan.pk, "when": "next_month"})
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=30)
    rows = by_line(job)
    when = first_of_next_month()
    with translation.override("en"):
        shown = formats.date_format(when)
    assert rows[mobile.pk][3:] == ["Done", f"Takes effect on {shown}."]
    assert rows[broadband.pk][3:] == ["Refused", "Choose one of the price plans offered for this kind of subscription."]
    change = ChangeRequest.objects.get(subscription=mobile)
    assert (change.status, change.effective_date) == (ChangeRequest.Status.SCHEDULED, when)
    mobile.refresh_from_db()
    assert mobile.plan != plan  # not before its date


def test_the_job_stops_waiting_when_no_answer_comes(estate, settings):
    """No worker answers: the job does not hold its worker for the whole wait, only until answers stall."""
    import time

    settings.BULK_CHANGE_WAIT_SECONDS, settings.BULK_CHANGE_STALL_SECONDS = 60, 0.3
    job = start(make_member(estate["company"]), Action.BLOCK, [estate["lines"][0].pk], {"reason": "lost"})
    began = time.monotonic()
    job_run(job_id=job.pk)
    assert time.monotonic() - began < 10
    assert result_rows(job)[0][3] == "Still pending"
