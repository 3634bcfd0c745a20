"""Creating, running and following background jobs (see ``selfcare.jobs.models.Job``)."""

import logging
import tempfile
import time
from collections.abc import Iterable
from datetime import timedelta

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from selfcare.jobs.models import Job
from selfcare.jobs.registry import RUNNERS

logger = logging.getLogger(__name__)

# A running job whose runner has not reported for this long was cut off (a worker died).
INTERRUPTED_AFTER = timedelta(minutes=10)


def _safe_return_url(url: str) -> str:
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url[:500]
    return ""


def job_create(*, membership, kind: str, title: str, total: int = 0, params: dict | None = None,
               return_url: str = "", key: str = "") -> Job:
    """A queued job of ``membership``'s login and company; its task is sent once the caller commits.

    Call it inside the transaction that checked the request, so a rolled-back request starts nothing.
    With a ``key``, a job of the same kind and key that has not finished is returned instead.
    """
    return _create(company_id=membership.company_id, created_by_id=membership.user_id, kind=kind, title=title,
                   total=total, params=params, return_url=return_url, key=key)


def operator_job_create(*, started_by=None, kind: str, title: str, params: dict | None = None, key: str = "",
                        return_url: str = "") -> Job:
    """A queued operator job (no company; shown only in the back office), started by staff or, with
    ``started_by`` None, by beat. With a ``key``, the unfinished job of that kind and key is returned
    instead of a second one."""
    if started_by is not None and not (started_by.is_active and started_by.is_staff):
        raise PermissionError("only operator staff start operator jobs")
    return _create(company_id=None, operator=True, created_by_id=started_by.pk if started_by else None, kind=kind,
                   title=title, total=0, params=params, return_url=return_url, key=key)


def _create(*, kind, title, total, params, return_url, key, **owner) -> Job:
    from selfcare.jobs.tasks import run_job

    if kind not in RUNNERS:
        raise ValueError(f"no job runner for {kind!r}")
    fields = dict(owner, kind=kind, title=str(title), total=total, params=params or {},
                  return_url=_safe_return_url(return_url), key=key)
    try:
        with transaction.atomic():
            job = Job.objects.create(**fields)
    except IntegrityError:
        if not key:
            raise
        # Two clicks at once: the second insert waited for the first and met the unique index.
        return Job.objects.get(kind=kind, key=key, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


class Progress:
    """What a runner reports through. Writes are throttled (at most every ``interval`` seconds, and
    always at the end), each in its own short transaction, so the page sees them while the job runs."""

    def __init__(self, job: Job, interval: float = 0.5):
        self.job = job
        self.interval = interval
        self._ok = 0
        self._failed = 0
        self._last_write = 0.0

    def set_total(self, total: int) -> None:
        self.job.total = total
        Job.objects.filter(pk=self.job.pk).update(total=total, heartbeat_at=timezone.now())

    def advance(self, *, ok: int = 0, failed: int = 0) -> None:
        self._ok += ok
        self._failed += failed
        if time.monotonic() - self._last_write >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self._ok or self._failed:
            processed = self._ok + self._failed
            Job.objects.filter(pk=self.job.pk).update(
                processed=F("processed") + processed, failed=F("failed") + self._failed, heartbeat_at=timezone.now()
            )
            self.job.processed += processed
            self.job.failed += self._failed
            self._ok = self._failed = 0
        self._last_write = time.monotonic()

    def store_result(self, name: str, content: bytes | Iterable[bytes] | File) -> None:
        """The downloadable result (a per-line report, an export). Stored privately, served only to
        the job's own login through ``selfcare.jobs.views.JobResultView`` (an operator job's: to staff,
        through the back office's ``JobAdmin.result_view``)."""
        if isinstance(content, bytes):
            content = ContentFile(content)
        elif not isinstance(content, File):
            # Chunks go to a temporary file, never into memory whole (a result may be 500,000 lines).
            spool = tempfile.TemporaryFile()
            for chunk in content:
                spool.write(chunk)
            spool.seek(0)
            content = File(spool, name=name)
        self.job.result.save(name, content, save=False)
        self.job.result_name = name
        Job.objects.filter(pk=self.job.pk).update(result=self.job.result.name, result_name=name)


def _claim(job_id: int) -> Job | None:
    """Move a queued job to running. The row lock and the status make the start happen once, however
    often (or however concurrently) the task is delivered."""
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id, status=Job.Status.QUEUED).first()
        if job is None:
            return None
        job.status = Job.Status.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
        return job


def job_run(*, job_id: int) -> bool:
    """Run one queued job (the Celery task calls this). Returns True if this call ran it."""
    job = _claim(job_id)
    if job is None:
        return False
    progress = Progress(job)
    try:
        RUNNERS[job.kind](job, progress)
        progress.flush()
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        progress.flush()
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), failure=Job.Failure.ERROR,
        )
        return True
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, finished_at=timezone.now())
    return True


def job_sweep_interrupted(*, older_than: timedelta = INTERRUPTED_AFTER) -> int:
    """Running jobs that stopped reporting (their worker died) are marked failed, so the page stops
    waiting and says so. A runner that must never be cut short keeps its work in transactions of its
    own, so what it finished stays finished."""
    cutoff = timezone.now() - older_than
    return Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), failure=Job.Failure.INTERRUPTED,
    )
