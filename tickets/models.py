"""Support cases, fault reports and the operator's notices.

A **support case** is a question or request to the operator's customer service; a **fault report**
says that something does not work, and is always tied to a subscription or a connection. Both have a
thread of messages (``CaseMessage``) with the operator, attachments on both sides (``Attachment``),
and a status that moves only through ``selfcare.workflow.transition`` (their timelines are
``SupportCaseEvent`` and ``FaultReportEvent``).

Scoping: every login of the company can view its cases (the seed says so), but a case tied to a
subscription, connection or account outside a restricted login's account numbers is outside its
scope (a 404), like any other row of those accounts. A case tied to nothing is the company's.
Fault reports always have an account. Messages of the operator marked ``internal`` are staff notes:
never on a customer page, in an e-mail or in an export.

``OperationalNotice`` is the operator's (not a company's): disruptions and planned work by product
area and city, shown on the overview and on the public disruption page, and operator messages.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel, TenantQuerySet
from orders.models import ProductArea
from selfcare.jobs.models import private_storage
from selfcare.workflow import TimelineEvent, Workflow

# How long a resolved case may be reopened by the customer.
REOPEN_DAYS = 14


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class AccountOrCompanyQuerySet(TenantQuerySet):
    """Rows tied to an account (in scope for a restricted login only when the account is one of its
    own) or to no account at all (the company's, seen by every login of the company)."""

    def for_membership(self, membership):
        queryset = self.filter(company_id=membership.company_id)
        lookup = self.model.account_scope_lookup
        if lookup and not membership.all_accounts:
            queryset = queryset.filter(Q(**{f"{lookup}__isnull": True})
                                       | Q(**{f"{lookup}__in": membership.accounts.values("pk")}))
        return queryset


class Ticket(TenantModel):
    """What a support case and a fault report share: a number made of the kind's letter and the id
    ("S000123", "F000123"; the lists find a row by it), and which statuses are open."""

    account_scope_lookup = "account"
    NUMBER_PREFIX = ""
    # "Case %(number)s", "Fault report %(number)s"
    NAME_WITH_NUMBER = ""
    OPEN: tuple = ()

    class Meta:
        abstract = True

    def __str__(self):
        return self.NAME_WITH_NUMBER % {"number": self.number}

    @property
    def number(self) -> str:
        return f"{self.NUMBER_PREFIX}{self.pk:06d}" if self.pk else "–"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class SupportCase(Ticket):
    NUMBER_PREFIX = "S"
    NAME_WITH_NUMBER = _("Case %(number)s")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for you")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN = (Status.DRAFT, Status.SUBMITTED, Status.IN_PROGRESS, Status.WAITING)
    HISTORY = (Status.RESOLVED, Status.CLOSED)
    # What the operator's staff move in the back office.
    OPERATOR_STATUSES = (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED)

    workflow = Workflow(
        event_model="tickets.SupportCaseEvent",
        transitions={
            Status.DRAFT: {Status.SUBMITTED},
            Status.SUBMITTED: {Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED},
            Status.IN_PROGRESS: {Status.WAITING, Status.RESOLVED, Status.CLOSED},
            # The customer's reply takes a waiting case back to the operator.
            Status.WAITING: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
            # Reopened by the customer within REOPEN_DAYS, or closed.
            Status.RESOLVED: {Status.IN_PROGRESS, Status.CLOSED},
        },
    )

    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices)
    service = models.CharField(_("service"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=10000)
    # What the case is about (any one of them, or none). ``account`` is the scope: the subscription's
    # or connection's account when one of those is given.
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="support_cases")
    connection = models.ForeignKey("subscriptions.Connection", verbose_name=_("connection"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="support_cases")
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="support_cases")
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_method = models.CharField(_("how to contact"), max_length=10, choices=ContactMethod.choices,
                                      default=ContactMethod.EMAIL)
    extra_contact_name = models.CharField(_("extra contact person"), max_length=150, blank=True)
    extra_contact_email = models.EmailField(_("extra contact e-mail"), blank=True)
    extra_contact_phone = models.CharField(_("extra contact phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Raised for a colleague, who follows it too (sees it as theirs, gets its e-mails).
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("on behalf of"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    # The operator's side.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    limit_choices_to={"is_staff": True})
    # Since when the customer waits for the operator (submitted, replied, reopened); cleared by the
    # operator's reply. The back office's "waiting" queue.
    awaiting_operator_since = models.DateTimeField(_("awaiting the operator since"), null=True, blank=True)
    idempotency_key = models.UUIDField(_("form key"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    objects = AccountOrCompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("support case")
        verbose_name_plural = _("support cases")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "idempotency_key"], name="support_case_one_per_form_key"),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at", "-id"], name="support_case_company_idx"),
            models.Index(fields=["company", "status", "-created_at"], name="support_case_status_idx"),
            # The open cases (the list's first page, its count, the overview's): a small index of its own.
            models.Index(fields=["company", "-created_at", "-id"], name="support_case_open_idx",
                         condition=Q(status__in=["draft", "submitted", "in_progress", "waiting"])),
            models.Index(fields=["created_by", "company", "-created_at"], name="support_case_creator_idx"),
            models.Index(fields=["on_behalf_of", "company", "-created_at"], name="support_case_behalf_idx"),
            models.Index(fields=["subscription"], name="support_case_subscription_idx"),
            # The hourly job that closes resolved cases past the reopening limit.
            models.Index(fields=["resolved_at"], condition=Q(status="resolved"), name="support_case_resolved_idx"),
            # The back office's queues.
            models.Index(fields=["awaiting_operator_since"], condition=Q(awaiting_operator_since__isnull=False),
                         name="support_case_awaiting_idx"),
        ]

    def can_reopen(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.status == self.Status.RESOLVED and self.resolved_at is not None
                and now - self.resolved_at <= timezone.timedelta(days=REOPEN_DAYS))


class SupportCaseEvent(TenantModel, TimelineEvent):
    account_scope_lookup = "subject__account"

    KIND_LABELS = {
        "created": _("Created as a draft"),
        "edited": _("Draft changed"),
        "answered": _("Answered by the customer"),
        "reopened": _("Reopened"),
        "closed_automatically": _("Closed automatically"),
    }

    subject = models.ForeignKey(SupportCase, verbose_name=_("support case"), on_delete=models.CASCADE,
                                related_name="events")

    objects = AccountOrCompanyQuerySet.as_manager()

    class Meta(TimelineEvent.Meta):
        verbose_name = _("support case event")
        verbose_name_plural = _("support case events")
        indexes = [models.Index(fields=["subject", "at"], name="support_case_event_idx")]


class FaultReport(Ticket):
    NUMBER_PREFIX = "F"
    NAME_WITH_NUMBER = _("Fault report %(number)s")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Reported")
        IN_PROGRESS = "in_progress", _("Being investigated")
        WAITING = "waiting", _("Waiting for you")
        CLOSED = "closed", _("Closed")

    OPEN = (Status.SUBMITTED, Status.IN_PROGRESS, Status.WAITING)
    HISTORY = (Status.CLOSED,)
    OPERATOR_STATUSES = (Status.IN_PROGRESS, Status.WAITING, Status.CLOSED)

    workflow = Workflow(
        event_model="tickets.FaultReportEvent",
        transitions={
            Status.SUBMITTED: {Status.IN_PROGRESS, Status.WAITING, Status.CLOSED},
            Status.IN_PROGRESS: {Status.WAITING, Status.CLOSED},
            Status.WAITING: {Status.IN_PROGRESS, Status.CLOSED},
        },
    )

    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices)
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="fault_reports")
    connection = models.ForeignKey("subscriptions.Connection", verbose_name=_("connection"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="fault_reports")
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="fault_reports")
    # The number or circuit id as it was when reported (the subscription may change later).
    reference = models.CharField(_("number or connection"), max_length=40)
    # Product-specific (see tickets.catalogue.FAULT_SYMPTOMS): mobile "what fails", since when, where;
    # fixed telephony the symptom; data the symptom, when it started, whether the equipment was restarted.
    symptom = models.CharField(_("what fails"), max_length=40)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    started_at = models.DateTimeField(_("since when"), null=True, blank=True)
    location = models.CharField(_("where"), max_length=200, blank=True)
    equipment_restarted = models.BooleanField(_("equipment restarted"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    limit_choices_to={"is_staff": True})
    awaiting_operator_since = models.DateTimeField(_("awaiting the operator since"), null=True, blank=True)
    idempotency_key = models.UUIDField(_("form key"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "idempotency_key"], name="fault_report_one_per_form_key"),
            # Tied to exactly one of a subscription or a connection.
            models.CheckConstraint(condition=Q(subscription__isnull=False, connection__isnull=True)
                                   | Q(subscription__isnull=True, connection__isnull=False),
                                   name="fault_report_subscription_or_connection"),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at", "-id"], name="fault_report_company_idx"),
            models.Index(fields=["company", "status", "-created_at"], name="fault_report_status_idx"),
            models.Index(fields=["company", "-created_at", "-id"], name="fault_report_open_idx",
                         condition=Q(status__in=["submitted", "in_progress", "waiting"])),
            models.Index(fields=["account", "-created_at"], name="fault_report_account_idx"),
            models.Index(fields=["subscription"], name="fault_report_subscription_idx"),
            models.Index(fields=["connection"], name="fault_report_connection_idx"),
            models.Index(fields=["awaiting_operator_since"], condition=Q(awaiting_operator_since__isnull=False),
                         name="fault_report_awaiting_idx"),
        ]


class FaultReportEvent(TenantModel, TimelineEvent):
    account_scope_lookup = "subject__account"

    KIND_LABELS = {"created": _("Reported"), "answered": _("Answered by the customer")}

    subject = models.ForeignKey(FaultReport, verbose_name=_("fault report"), on_delete=models.CASCADE,
                                related_name="events")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("fault report event")
        verbose_name_plural = _("fault report events")
        indexes = [models.Index(fields=["subject", "at"], name="fault_report_event_idx")]


class CaseMessage(TenantModel):
    """One message in the thread of a support case or of a fault report (exactly one of the two).

    ``from_operator``: written by the operator's staff; ``internal``: a staff note, never shown to
    the customer (pages, e-mails, exports).
    """

    account_scope_lookup = "account"

    case = models.ForeignKey(SupportCase, verbose_name=_("support case"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="messages")
    fault_report = models.ForeignKey(FaultReport, verbose_name=_("fault report"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="messages")
    # The thread's account, copied for scoping (null for a case tied to no account).
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(_("author"), max_length=200, blank=True)
    from_operator = models.BooleanField(_("from the operator"), default=False)
    internal = models.BooleanField(_("internal note"), default=False,
                                   help_text=_("Only the operator's staff see it."))
    body = models.TextField(_("message"), max_length=10000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    objects = AccountOrCompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(case__isnull=False, fault_report__isnull=True)
                                   | Q(case__isnull=True, fault_report__isnull=False),
                                   name="case_message_one_thread"),
            # Only the operator writes internal notes.
            models.CheckConstraint(condition=Q(internal=False) | Q(from_operator=True),
                                   name="case_message_internal_is_operator"),
        ]
        indexes = [
            models.Index(fields=["case", "created_at"], name="case_message_case_idx"),
            models.Index(fields=["fault_report", "created_at"], name="case_message_fault_idx"),
        ]

    def __str__(self):
        return f"{self.author_label}: {self.body[:40]}"


def attachment_path(instance, filename):
    # The stored name is random: the customer's name is kept (sanitised) in original_name only.
    return f"tickets/{instance.company_id}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(TenantModel):
    """A file on a case or fault report (given with it, or with one of its messages).

    Stored in the private storage (``STORAGES["private"]``, outside any public path), its type
    checked by content when uploaded (``tickets.attachments``) and served only as a download by a
    permission-checked view.
    """

    account_scope_lookup = "account"

    case = models.ForeignKey(SupportCase, verbose_name=_("support case"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="attachments")
    fault_report = models.ForeignKey(FaultReport, verbose_name=_("fault report"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(CaseMessage, verbose_name=_("message"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="attachments")
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), storage=private_storage, upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    from_operator = models.BooleanField(_("from the operator"), default=False)
    # An attachment of an internal note is internal too.
    internal = models.BooleanField(_("internal"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = AccountOrCompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(case__isnull=False, fault_report__isnull=True)
                                   | Q(case__isnull=True, fault_report__isnull=False),
                                   name="attachment_one_thread"),
        ]
        indexes = [
            models.Index(fields=["case"], name="attachment_case_idx"),
            models.Index(fields=["fault_report"], name="attachment_fault_idx"),
        ]

    def __str__(self):
        return self.original_name


class OperationalNotice(models.Model):
    """The operator's notice (not a company's): a disruption or planned work in a product area and
    some cities, or a message from the operator. Active from ``starts_at`` while published and not
    resolved (an operator message also ends at ``expected_end_at``)."""

    class Kind(models.TextChoices):
        DISRUPTION = "disruption", _("Disruption")
        PLANNED_WORK = "planned_work", _("Planned work")
        OPERATOR_MESSAGE = "operator_message", _("Message from the operator")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DISRUPTION)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices, blank=True,
                            help_text=_("Empty: every product area."))
    cities = ArrayField(models.CharField(max_length=100), verbose_name=_("affected cities"), default=list,
                        blank=True, help_text=_("Comma-separated. Empty: everywhere."))
    starts_at = models.DateTimeField(_("start"), default=timezone.now)
    expected_end_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=True,
                                    help_text=_("Untick to keep it as a draft nobody sees."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("operational notice")
        verbose_name_plural = _("operational notices")
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_end_at__isnull=True) | Q(expected_end_at__gte=models.F("starts_at")),
                name="notice_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["-starts_at"], condition=Q(published=True, resolved_at__isnull=True),
                         name="notice_active_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class OperationalNoticeUpdate(models.Model):
    """A dated update on a notice ("the cause is found, repair expected by 14:00")."""

    notice = models.ForeignKey(OperationalNotice, verbose_name=_("notice"), on_delete=models.CASCADE,
                               related_name="updates")
    at = models.DateTimeField(_("when"), default=timezone.now)
    body = models.TextField(_("update"), max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["at", "pk"]

    def __str__(self):
        return self.body[:60]
