"""Background jobs: run once by a real worker, progress the page follows, a private result, scoping."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from selfcare.jobs.models import Job
from selfcare.jobs.registry import RUNNERS, job_runner
from selfcare.jobs.services import job_create, job_run, job_sweep_interrupted
from tests.conftest import make_member, password_only_client, verified_client, wait_for
from tests.factories import CompanyFactory

CALLS: list[int] = []
HALFWAY = threading.Event()
GO_ON = threading.Event()


@job_runner("tests.count")
def count_runner(job, progress):
    """Counts to the job's total, reporting each step, and stores a small report."""
    CALLS.append(job.pk)
    progress.set_total(job.params["n"])
    for index in range(job.params["n"]):
        if job.params.get("wait") and index == job.params["n"] // 2:
            progress.flush()
            HALFWAY.set()
            assert GO_ON.wait(15), "the test never let the job go on"
        progress.advance(ok=1) if index % 3 else progress.advance(failed=1)
    progress.store_result("report.csv", b"line;result\n1;ok\n")


@job_runner("tests.broken")
def broken_runner(job, progress):
    progress.advance(ok=2)
    raise RuntimeError("secret internals")


@job_runner("tests.chunks")
def chunks_runner(job, progress):
    """A result written from a generator of chunks (as a big export would be)."""
    progress.store_result("lines.csv", (f"{index};ok\n".encode() for index in range(job.params["n"])))


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    HALFWAY.clear()
    GO_ON.clear()


def _job(membership, kind="tests.count", **params) -> Job:
    with transaction.atomic():
        return job_create(membership=membership, kind=kind, title="Count", params=params or {"n": 9})


def test_a_real_worker_runs_the_job_once_and_the_page_offers_its_result(celery_worker):
    membership = make_member(CompanyFactory())
    job = _job(membership, n=9)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE)
    job.refresh_from_db()
    assert (job.total, job.processed, job.failed, job.succeeded, job.percent) == (9, 9, 3, 6, 100)
    assert CALLS == [job.pk]

    client = verified_client(membership.user)
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Finished." in body and "6 succeeded" in body and "3 failed" in body
    assert 'hx-trigger="every 1s"' not in body  # finished: the page stops polling
    download = client.get(reverse("jobs:result", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="report.csv"')
    assert b"".join(download.streaming_content) == b"line;result\n1;ok\n"


def test_the_page_follows_progress_while_the_job_runs(celery_worker):
    membership = make_member(CompanyFactory())
    job = _job(membership, n=10, wait=True)
    assert HALFWAY.wait(15)
    client = verified_client(membership.user)
    fragment = client.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "5 of 10 done" in fragment
    assert 'hx-trigger="every 1s"' in fragment and 'value="50"' in fragment
    assert "<html" not in fragment  # htmx gets the component only
    GO_ON.set()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE)
    fragment = client.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and reverse("jobs:result", args=[job.pk]) in fragment


@pytest.mark.django_db
def test_a_second_delivery_of_the_task_runs_nothing(django_capture_on_commit_callbacks):
    membership = make_member(CompanyFactory())
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_create(membership=membership, kind="tests.count", title="Count", params={"n": 3})
    assert len(callbacks) == 1  # the task is sent once the request commits
    assert job_run(job_id=job.pk) is True
    assert job_run(job_id=job.pk) is False
    assert CALLS == [job.pk]


@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_one_worker_is_skipped_by_another():
    """Two connections: worker A holds the job's row lock while claiming it; worker B, delivered the
    same task at that moment, must skip it rather than start it a second time."""
    membership = make_member(CompanyFactory())
    job = job_create(membership=membership, kind="tests.count", title="Count", params={"n": 3})
    locked, release = threading.Event(), threading.Event()

    def worker_a():
        try:
            with transaction.atomic():
                Job.objects.select_for_update().get(pk=job.pk)
                locked.set()
                release.wait(15)
        finally:
            connection.close()

    holder = threading.Thread(target=worker_a)
    holder.start()
    try:
        assert locked.wait(15)
        assert job_run(job_id=job.pk) is False
        assert CALLS == []
    finally:
        release.set()
        holder.join(15)
    assert job_run(job_id=job.pk) is True and CALLS == [job.pk]


@pytest.mark.django_db
def test_a_rolled_back_request_starts_no_job(django_capture_on_commit_callbacks):
    membership = make_member(CompanyFactory())
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            job_create(membership=membership, kind="tests.count", title="Count", params={"n": 3})
            raise RuntimeError
    assert callbacks == [] and not Job.objects.exists()


@pytest.mark.django_db
def test_a_failing_runner_fails_the_job_with_a_message_and_no_internals():
    membership = make_member(CompanyFactory())
    job = job_create(membership=membership, kind="tests.broken", title="Broken")
    assert job_run(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.failure == Job.Failure.ERROR and job.processed == 2
    body = verified_client(membership.user).get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "error on our side" in body and "secret internals" not in body and 'hx-trigger="every 1s"' not in body


@pytest.mark.django_db
def test_the_failure_is_told_in_the_readers_language():
    membership = make_member(CompanyFactory(), language="da")
    job = job_create(membership=membership, kind="tests.broken", title="Broken")
    job_run(job_id=job.pk)
    client = verified_client(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "da"
    body = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "fejl hos os" in body


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_marked_interrupted():
    membership = make_member(CompanyFactory())
    stale = job_create(membership=membership, kind="tests.count", title="Stale")
    fresh = job_create(membership=membership, kind="tests.count", title="Fresh")
    Job.objects.filter(pk=stale.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    Job.objects.filter(pk=fresh.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    assert job_sweep_interrupted() == 1
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert stale.status == Job.Status.FAILED and stale.failure == Job.Failure.INTERRUPTED
    assert fresh.status == Job.Status.RUNNING


@pytest.mark.django_db
def test_unknown_kinds_and_foreign_return_urls_are_refused():
    membership = make_member(CompanyFactory())
    with pytest.raises(ValueError):
        job_create(membership=membership, kind="no.such.kind", title="x")
    for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        assert job_create(membership=membership, kind="tests.count", title="x", return_url=url).return_url == ""
    assert job_create(membership=membership, kind="tests.count", title="x",
                      return_url="/subscriptions/?q=a").return_url == "/subscriptions/?q=a"
    assert "tests.count" in RUNNERS


# Scoping: a job is its own login's, in its own company. These routes are listed in
# tests/test_url_coverage.py as specially tested here: RouteCheck's members are other logins than the
# job's creator by design, so the generic checks cannot apply.

@pytest.fixture
def finished_job(db):
    membership = make_member(CompanyFactory())
    job = job_create(membership=membership, kind="tests.count", title="Count", params={"n": 3})
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("route", ["jobs:detail", "jobs:result"])
def test_another_company_sees_no_job(finished_job, route):
    stranger = make_member(CompanyFactory()).user
    assert verified_client(stranger).get(reverse(route, args=[finished_job.pk])).status_code == 404


@pytest.mark.parametrize("route", ["jobs:detail", "jobs:result"])
def test_a_colleague_in_the_same_company_sees_no_job(finished_job, route):
    colleague = make_member(finished_job.company).user
    assert verified_client(colleague).get(reverse(route, args=[finished_job.pk])).status_code == 404


@pytest.mark.parametrize("route", ["jobs:detail", "jobs:result"])
def test_the_creator_in_another_of_their_companies_sees_no_job(finished_job, route):
    """The job belongs to the company it was started in: switching company hides it."""
    from accounts.models import Membership

    creator = finished_job.created_by
    other = CompanyFactory()
    make_member(other)  # the other company has a Superuser of its own
    Membership.objects.create(user=creator, company=other, role="superuser", all_accounts=True)
    from accounts.middleware import SESSION_COMPANY_KEY

    client = verified_client(creator)
    session = client.session
    session[SESSION_COMPANY_KEY] = other.pk
    session.save()
    assert client.get(reverse(route, args=[finished_job.pk])).status_code == 404
    session = client.session
    session[SESSION_COMPANY_KEY] = finished_job.company_id
    session.save()
    assert client.get(reverse(route, args=[finished_job.pk])).status_code == 200


@pytest.mark.parametrize("route", ["jobs:detail", "jobs:result"])
def test_anonymous_and_password_only_are_sent_to_sign_in(finished_job, route):
    from django.test import Client

    url = reverse(route, args=[finished_job.pk])
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    response = password_only_client(finished_job.created_by).get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify"))


@pytest.mark.django_db
def test_a_job_without_a_result_has_nothing_to_download():
    membership = make_member(CompanyFactory())
    job = job_create(membership=membership, kind="tests.broken", title="Broken")
    job_run(job_id=job.pk)
    assert verified_client(membership.user).get(reverse("jobs:result", args=[job.pk])).status_code == 404


def test_the_result_is_not_under_a_public_path(settings, finished_job):
    from pathlib import Path

    path = Path(finished_job.result.path).resolve()
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())


@pytest.mark.django_db
def test_a_result_written_in_chunks_is_stored_whole_and_downloadable():
    membership = make_member(CompanyFactory())
    job = job_create(membership=membership, kind="tests.chunks", title="Chunks", params={"n": 5000})
    assert job_run(job_id=job.pk) is True
    response = verified_client(membership.user).get(reverse("jobs:result", args=[job.pk]))
    body = b"".join(response.streaming_content)
    assert body.count(b"\n") == 5000 and body.startswith(b"0;ok\n") and body.endswith(b"4999;ok\n")


def test_jobs_run_on_a_queue_of_their_own_and_everything_else_on_the_default_one():
    """A bulk job that waits for the operator's answers holds a slot of the jobs' worker (make run and
    docker-compose start one for the "jobs" queue), never one of the worker that sends SMS codes."""
    from selfcare.celery import app
    from selfcare.jobs.tasks import run_job
    from selfcare.outbox.tasks import deliver_outbox_message as deliver
    from subscriptions.tasks import simulator_complete

    def queue(task):
        return app.amqp.router.route({}, task.name, args=(1,), kwargs={})["queue"].name

    assert queue(run_job) == "jobs"
    assert queue(deliver) == queue(simulator_complete) == app.conf.task_default_queue == "celery"
