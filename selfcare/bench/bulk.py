"""The bulk-action benchmark (``manage.py bench_bulk --lines 10000``): a bulk block of N lines through
the provisioning simulator, from the confirmation to the finished job with its result file.

It writes its own data in a company of its own (``BENCH Bulk …``, so ``bench_data_delete`` would remove
it too), starts the job exactly as the confirmation page does (``bulk_change_start``), follows the
job's progress as its page would (every half second), and removes its data again. The job runs in a
real Celery worker: by default one that the benchmark starts for the run (``celery worker
--concurrency 2``, the compose file's), or the one already consuming from the configured broker
(``--external-worker``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, ProtectedError, RestrictedError

from accounts.models import AuditEvent, Company, Membership, User
from accounts.permissions import Role
from selfcare.bench.data import _bulk_insert, _free_cvr_numbers, _tenant_models
from selfcare.jobs.models import Job
from subscriptions.catalogue import catalogue_ensure
from subscriptions.models import BillingAccount, ChangeRequest, PricePlan, Subscription

TARGET_SECONDS = 60.0


@dataclass
class BulkBenchResult:
    lines: int
    seconds: float
    status: str
    succeeded: int
    failed: int
    delay: float
    # (seconds since the confirmation, lines processed) as the job's page would have shown them.
    progress: list[tuple[float, int]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def within_target(self) -> bool:
        return self.status == Job.Status.DONE and self.seconds <= TARGET_SECONDS


def _create_estate(lines: int, failing: int) -> tuple[Company, Membership, list[int]]:
    catalogue_ensure()
    tag = uuid.uuid4().hex[:8]
    with transaction.atomic():
        company = Company.objects.create(name=f"BENCH Bulk {tag}", country="DK",
                                         registration_number=_free_cvr_numbers(1)[0], street="Benchvej 1",
                                         postal_code="1058", city="København K")
        account = BillingAccount.objects.create(company=company, number=f"BENCH-BULK-{tag}", name="Bulk")
        plan = PricePlan.objects.filter(type=Subscription.Type.MOBILE, active=True).first()
        user = User.objects.create_user(email=f"bulk-{tag}@bench.example", password=None, full_name="Bench Bulk",
                                        language="en")
        membership = Membership.objects.create(user=user, company=company, role=Role.SUPERUSER,
                                               permissions=_superuser_permissions())
        prefix = 10_000_000 + int(tag[:6], 16) % 80_000_000
        # Every (lines // failing)-th number ends in the simulator's failing suffix.
        suffix = (settings.PROVISIONING_SIMULATOR_FAIL_SUFFIXES or ["9999"])[0]

        def number(index):
            if failing and index % max(1, lines // failing) == 0:
                return f"+45 {prefix + index:08d}"[:-len(suffix)] + suffix
            return f"+45 {prefix + index:08d}"

        _bulk_insert(Subscription, (
            Subscription(company=company, account=account, plan=plan, number=number(index),
                         employee_name=f"Bench Ansat {index:05d}", employee_email=f"ansat{index}@bench.example")
            for index in range(lines)
        ))
    ids = list(Subscription.objects.filter(company=company).order_by("pk").values_list("pk", flat=True))
    return company, membership, ids


def _superuser_permissions() -> list[str]:
    from accounts.permissions import ROLE_PRESETS

    return sorted(ROLE_PRESETS[Role.SUPERUSER])


def _delete_estate(company: Company, user: User) -> None:
    Job.objects.filter(company=company).delete()
    pending = _tenant_models()
    for _pass in range(len(pending) + 1):
        blocked = []
        for model in pending:
            try:
                with transaction.atomic():
                    model._base_manager.filter(company_id=company.pk).delete()
            except (ProtectedError, RestrictedError):
                blocked.append(model)
        if not blocked:
            break
        pending = blocked
    AuditEvent.objects.filter(company_id=company.pk).delete()
    Membership.objects.filter(company=company).delete()
    user.delete()
    company.delete()


class _Worker:
    """A Celery worker process started for the run, stopped (by its own pid) afterwards."""

    def __init__(self, concurrency: int = 2):
        self.concurrency = concurrency
        self.process = None

    def __enter__(self):
        from selfcare.celery import app

        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "selfcare", "worker", "--loglevel", "warning",
             "--concurrency", str(self.concurrency), "-Q", "celery,jobs", "--hostname", f"bench-bulk-{uuid.uuid4().hex[:6]}@%h"],
            env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the Celery worker stopped while starting")
            if app.control.ping(timeout=1.0):
                return self
        raise RuntimeError("the Celery worker did not answer within 60 s")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def bench_bulk(*, lines: int = 10_000, failing: int = 10, external_worker: bool = False, timeout: float = 600,
               report=print) -> BulkBenchResult:
    """Block ``lines`` lines in one bulk action through the simulator and time it (see the module)."""
    from contextlib import nullcontext

    from subscriptions.bulk import bulk_change_start

    report(f"Writing {lines} lines in a company of their own ...")
    company, membership, ids = _create_estate(lines, failing)
    try:
        with nullcontext() if external_worker else _Worker():
            report(f"Blocking {lines} lines (simulator delay {settings.PROVISIONING_SIMULATOR_DELAY} s) ...")
            started = time.monotonic()
            with transaction.atomic():
                job, _created = bulk_change_start(membership=membership, action=ChangeRequest.Action.BLOCK,
                                                  params={"reason": "lost"}, ids=ids, token=uuid.uuid4().hex)
            progress: list[tuple[float, int]] = []
            while True:
                job.refresh_from_db()
                elapsed = time.monotonic() - started
                if not progress or progress[-1][1] != job.processed:
                    progress.append((round(elapsed, 1), job.processed))
                if job.is_finished or elapsed > timeout:
                    break
                time.sleep(0.5)
            seconds = time.monotonic() - started
        outcomes = dict(ChangeRequest.objects.filter(company=company).order_by().values_list("status")
                        .annotate(n=Count("pk")).values_list("status", "n"))
        result = BulkBenchResult(lines=lines, seconds=round(seconds, 1), status=job.status, succeeded=job.succeeded,
                                 failed=job.failed, delay=settings.PROVISIONING_SIMULATOR_DELAY, progress=progress,
                                 outcomes=outcomes)
    finally:
        _delete_estate(company, membership.user)
    return result
