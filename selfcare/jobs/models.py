from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


def private_storage():
    """Files that only permission-checked views serve (never a public media path)."""
    return storages["private"]


class Job(TenantModel):
    """Long work that runs in a Celery worker while the page shows its progress.

    Bulk actions, big exports, billing runs, PDF rendering and uploads all use it: the page creates the
    job (``selfcare.jobs.services.job_create``), a worker runs the registered runner for its ``kind``
    exactly once, the runner reports progress as it goes, and may store a downloadable result.
    A job belongs to the login that started it, within its company: nobody else sees it.

    An operator job (``operator``: the monthly billing run) is the operator's, not a company's: it has
    no company, is started by staff in the back office or by beat (no login then), and is shown only
    there (``selfcare.jobs.services.operator_job_create``). The database refuses any other mix, so a
    customer-side query, which always names a company, can never reach one.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        # Told to the user in their own language when the page is shown (never a traceback: the log
        # has the details).
        ERROR = "error", _("The job stopped because of an error on our side. What it finished is kept; try again for the rest.")
        INTERRUPTED = "interrupted", _("The job was interrupted. What it finished is kept; start it again for the rest.")

    FINISHED = (Status.DONE, Status.FAILED)

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    operator = models.BooleanField(_("operator job"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=100)
    # What must not run twice at once (the billing run's month): one unfinished job per kind and key.
    key = models.CharField(_("key"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    failure = models.CharField(_("failure"), max_length=20, choices=Failure.choices, blank=True)
    result = models.FileField(_("result"), storage=private_storage, upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField(_("result file name"), max_length=200, blank=True)
    # Where the user came from, so the job page can lead back (a path on this site only).
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Written with every progress report; a running job without one for a while was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "created_by", "-created_at"], name="job_company_user_idx"),
            models.Index(fields=["heartbeat_at"], condition=models.Q(status="running"), name="job_running_idx"),
        ]
        constraints = [
            # A customer's job has its company and its login; only an operator job has no company.
            models.CheckConstraint(
                condition=models.Q(operator=False, company__isnull=False, created_by__isnull=False)
                | models.Q(operator=True, company__isnull=True),
                name="job_company_unless_operator",
            ),
            # A double click (or beat and staff at once) starts one job; a finished one may run again.
            models.UniqueConstraint(fields=["kind", "key"], condition=models.Q(status__in=["queued", "running"])
                                    & ~models.Q(key=""), name="job_one_unfinished_per_key"),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.processed / self.total))

    @property
    def succeeded(self) -> int:
        return max(0, self.processed - self.failed)
