"""Bulk actions on the subscription list: one change for many lines, run as a background job.

The list (``SubscriptionListView``, through the list machinery's selection) sends the chosen lines or
"all lines that match" to the confirmation page, which tells how many lines will change
(``bulk_preview``). Confirming starts one job (``bulk_change_start``: a one-time token in the form, so
a double submit starts one job). The job's runner (``bulk_change_run``, registered in ``jobs.py``)
goes through the ids in chunks with the single-line services' rules (``change_requests_create_many`` /
``invoice_notes_set_many``: the same permission, scope and ``_validate``), waits for the operator's
answers, and stores a per-line result file.

**The ids are frozen when the user confirms** (``Job.params["ids"]``): the job changes exactly the lines
the confirmation counted, never a line that began to match the filter afterwards. The scope is applied
again at run time, line by line: a line that is not the login's (another company's, outside its account
numbers, deleted, or a crafted id) changes nothing and gets the result "not found or not yours", which
says nothing about the line.
"""

import hashlib
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from selfcare.exports import Column, export_write
from selfcare.jobs.models import Job
from selfcare.jobs.services import job_create
from subscriptions.models import ChangeRequest, Subscription
from subscriptions.services import (
    ACTION_PERMISSIONS,
    INVOICE_NOTE_PERMISSION,
    ChangeRefused,
    change_requests_create_many,
    invoice_notes_set_many,
)

JOB_KIND = "subscriptions.bulk_change"
INVOICE_NOTE = "invoice_note"
CHUNK = 500
# How long the job waits for the operator's answers after its last change was handed over (the setting
# BULK_CHANGE_WAIT_SECONDS); what is still open then is reported as still pending (the employee's page
# shows when it is done).
WAIT_SECONDS = 300
# ... and stops waiting sooner when no answer has come for this long (BULK_CHANGE_STALL_SECONDS): the
# runner holds a worker slot while it waits, which other work (the SMS codes of a sign-in) needs too.
STALL_SECONDS = 60
POLL_SECONDS = 0.5
POLL_SLICE = 5000
FINISHED = [ChangeRequest.Status.COMPLETED, ChangeRequest.Status.FAILED, ChangeRequest.Status.SCHEDULED]

Action = ChangeRequest.Action


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: Any
    permission: str
    # Status condition of the lines that cannot take the change (for the confirmation's hint only; each
    # line is checked by the service's rules when the job runs).
    unchangeable: Q

    @property
    def change_action(self) -> str | None:
        return None if self.key == INVOICE_NOTE else self.key


_TERMINATED = Q(status=Subscription.Status.TERMINATED)
BULK_ACTIONS = {
    action.key: action for action in (
        BulkAction(Action.BLOCK, gettext_lazy("Block the SIM cards"), ACTION_PERMISSIONS[Action.BLOCK],
                   ~Q(status=Subscription.Status.ACTIVE)),
        BulkAction(Action.UNBLOCK, gettext_lazy("Unblock the SIM cards"), ACTION_PERMISSIONS[Action.UNBLOCK],
                   ~Q(status=Subscription.Status.BLOCKED)),
        BulkAction(Action.CHANGE_PLAN, gettext_lazy("Change price plan"), ACTION_PERMISSIONS[Action.CHANGE_PLAN],
                   _TERMINATED),
        BulkAction(INVOICE_NOTE, gettext_lazy("Set the invoice note"), INVOICE_NOTE_PERMISSION, _TERMINATED),
        BulkAction(Action.MOVE_ACCOUNT, gettext_lazy("Move to another account"),
                   ACTION_PERMISSIONS[Action.MOVE_ACCOUNT], _TERMINATED),
    )
}


class Outcome:
    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    PENDING = "pending"
    LABELS = {
        DONE: gettext_lazy("Done"),
        FAILED: gettext_lazy("Failed"),
        REFUSED: gettext_lazy("Refused"),
        NOT_FOUND: gettext_lazy("Not found"),
        PENDING: gettext_lazy("Still pending"),
    }


def bulk_actions_for(membership) -> list[BulkAction]:
    return [action for action in BULK_ACTIONS.values() if membership.has_permission(action.permission)]


def bulk_preview(*, membership, action: str, rows, chosen: int | None = None) -> dict:
    """What the confirmation says: how many lines will change, how many of them probably cannot take
    the change now, and (for ticked ids) how many of the chosen ids are not the login's lines. One query.

    ``rows``: the chosen lines within the membership's scope (a queryset); ``chosen``: how many ids were
    sent, when they were ticked one by one."""
    bulk_action = BULK_ACTIONS[action]
    counts = rows.order_by().aggregate(lines=Count("pk"), unchangeable=Count("pk", filter=bulk_action.unchangeable))
    return {
        "lines": counts["lines"],
        "unchangeable": counts["unchangeable"],
        "not_found": max(0, chosen - counts["lines"]) if chosen is not None else 0,
    }


def _token_lock(membership, token: str) -> None:
    """Serialises two requests with the same token (a double click) until the first commits."""
    digest = hashlib.blake2b(f"bulk:{membership.user_id}:{token}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def bulk_change_start(*, membership, action: str, params: dict, ids: list[int], token: str,
                      return_url: str = "") -> tuple[Job, bool]:
    """The job for a confirmed bulk action, and whether this call created it: the same token (the
    confirmation form's, once per form) gives the job the first submit created. PermissionDenied
    without the action's permission."""
    bulk_action = BULK_ACTIONS.get(action)
    if bulk_action is None or not membership.has_permission(bulk_action.permission):
        raise PermissionDenied
    with transaction.atomic():
        _token_lock(membership, token)
        existing = Job.objects.filter(company_id=membership.company_id, created_by_id=membership.user_id,
                                      kind=JOB_KIND, params__token=token).first()
        if existing is not None:
            return existing, False
        ids = list(dict.fromkeys(ids))
        count = len(ids)
        title = _("%(action)s: %(count)s lines") % {"action": bulk_action.label, "count": formats.localize(count)}
        job = job_create(membership=membership, kind=JOB_KIND, title=title, total=count, return_url=return_url,
                         params={"action": action, "params": params, "ids": ids, "token": token})
    return job, True


# --- the runner -------------------------------------------------------------------------------------

NOT_YOURS = gettext_lazy("Not found, or not one of your lines.")
NO_ACCESS = gettext_lazy("You no longer have access to this change.")


def _membership(job: Job):
    from accounts.models import Membership

    return (Membership.objects.select_related("user", "company")
            .filter(user_id=job.created_by_id, company_id=job.company_id, is_active=True).first())


def _change_kwargs(action: str, params: dict) -> dict:
    if action == Action.CHANGE_PLAN:
        return {"params": {"plan_id": params.get("plan_id"), "when": params.get("when", "now")}}
    return {"params": params}


def _finished_outcome(change: ChangeRequest) -> tuple[str, str] | None:
    if change.status == ChangeRequest.Status.COMPLETED:
        return Outcome.DONE, ""
    if change.status == ChangeRequest.Status.SCHEDULED:
        return Outcome.DONE, _("Takes effect on %(date)s.") % {"date": formats.date_format(change.effective_date)}
    if change.status == ChangeRequest.Status.FAILED:
        return Outcome.FAILED, str(change.get_failure_display())
    return None


class _Run:
    def __init__(self, job: Job, progress):
        self.job, self.progress = job, progress
        self.action = job.params["action"]
        self.params = job.params.get("params", {})
        self.ids = list(dict.fromkeys(int(pk) for pk in job.params.get("ids", [])))
        self.results: dict[int, list] = {}  # id -> [number, employee, outcome, reason]
        self.waiting: dict[int, int] = {}  # change id -> subscription id
        self.last_answer = time.monotonic()

    def record(self, pk: int, outcome: str, reason: str = "") -> None:
        self.results.setdefault(pk, ["", "", "", ""])[2:] = [outcome, reason]
        self.progress.advance(ok=int(outcome == Outcome.DONE), failed=int(outcome != Outcome.DONE))

    def run(self) -> None:
        self.progress.set_total(len(self.ids))
        membership = _membership(self.job)
        allowed = membership is not None and membership.has_permission(BULK_ACTIONS[self.action].permission)
        for start in range(0, len(self.ids), CHUNK):
            chunk = self.ids[start:start + CHUNK]
            if allowed:
                self.chunk(membership, chunk)
            else:
                for pk in chunk:
                    self.record(pk, Outcome.REFUSED, str(NO_ACCESS))
            self.collect()
        deadline = time.monotonic() + getattr(settings, "BULK_CHANGE_WAIT_SECONDS", WAIT_SECONDS)
        stall = getattr(settings, "BULK_CHANGE_STALL_SECONDS", STALL_SECONDS)
        self.last_answer = time.monotonic()
        while self.waiting and time.monotonic() < deadline and time.monotonic() - self.last_answer < stall:
            time.sleep(POLL_SECONDS)
            self.collect()
        for subscription_id in self.waiting.values():
            self.record(subscription_id, Outcome.PENDING,
                        _("Still with the operator: the employee's page shows when it is done."))
        self.store()

    def chunk(self, membership, chunk: list[int]) -> None:
        lines = Subscription.objects.for_membership(membership).filter(pk__in=chunk)
        for pk, number, employee in lines.values_list("pk", "number", "employee_name"):
            self.results[pk] = [number, employee, "", ""]
        try:
            if self.action == INVOICE_NOTE:
                outcomes = invoice_notes_set_many(membership=membership, subscription_ids=chunk,
                                                  invoice_note=self.params.get("invoice_note", ""))
            else:
                outcomes = change_requests_create_many(membership=membership, subscription_ids=chunk,
                                                       action=self.action, **_change_kwargs(self.action, self.params))
        except PermissionDenied:  # taken away while the job ran
            outcomes = {pk: ChangeRefused(NO_ACCESS) for pk in chunk if pk in self.results}
        for pk in chunk:
            outcome = outcomes.get(pk)
            if outcome is None:
                self.results.pop(pk, None)
                self.record(pk, Outcome.NOT_FOUND, str(NOT_YOURS))
            elif isinstance(outcome, ChangeRefused):
                self.record(pk, Outcome.REFUSED, " ".join(outcome.messages))
            elif isinstance(outcome, ChangeRequest):
                self.waiting[outcome.pk] = pk
            else:
                self.record(pk, Outcome.DONE)

    def collect(self) -> None:
        """The answers that have come, read in slices (a whole company may be waiting)."""
        waiting = list(self.waiting)
        for start in range(0, len(waiting), POLL_SLICE):
            finished = ChangeRequest.objects.filter(
                pk__in=waiting[start:start + POLL_SLICE],
                status__in=FINISHED,
            ).only("pk", "status", "failure", "effective_date")
            for change in finished:
                outcome, reason = _finished_outcome(change)
                self.record(self.waiting.pop(change.pk), outcome, reason)
                self.last_answer = time.monotonic()

    def rows(self):
        for pk in self.ids:
            number, employee, outcome, reason = self.results.get(pk, ["", "", Outcome.NOT_FOUND, str(NOT_YOURS)])
            yield pk, number, employee, str(Outcome.LABELS[outcome]), reason

    def store(self) -> None:
        columns = [
            Column(_("Line"), lambda row: row[0]),
            Column(_("Number"), lambda row: row[1]),
            Column(_("Employee"), lambda row: row[2]),
            Column(_("Outcome"), lambda row: row[3]),
            Column(_("Reason"), lambda row: row[4]),
        ]
        spool = tempfile.TemporaryFile()
        export_write(spool, export_format="csv", columns=columns, rows=self.rows())
        spool.seek(0)
        name = _("result-%(job)s.csv") % {"job": self.job.pk}
        self.progress.store_result(name, File(spool, name=name))


def bulk_change_run(job: Job, progress) -> None:
    """The job's work (see the module's docstring); the result file is in the starter's language."""
    language = getattr(job.created_by, "language", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        _Run(job, progress).run()
