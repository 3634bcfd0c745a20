"""Groups: a company's categories (e.g. "Cost centre", "Office"), the groups inside them, and which account
numbers and subscriptions belong to which group in which months.

A membership is stored as it was entered: a period of whole months, ``[first month, month after the
last)``, open-ended when it has no end. "The current group" of a line is computed from the periods for
a given month (``groups.selectors``), so a move entered for next month needs no job to take effect;
the monthly job (``groups.services.group_months_apply``) records the moves that began in the audit log
and tells the Superusers.

Within one category a line is in at most one group in any month: PostgreSQL refuses an overlapping
period (exclusion constraints on ``(category, line, period)`` with btree_gist), whatever wrote it.
"""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel, TenantQuerySet
from selfcare.jobs.models import private_storage

MAX_CATEGORIES = 10
MAX_GROUPS = 50


class GroupCategory(TenantModel):
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("group category")
        verbose_name_plural = _("group categories")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="group_category_unique_name")]

    def __str__(self):
        return self.name


class Group(TenantModel):
    category = models.ForeignKey(GroupCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="groups")
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Budgets (beyond the seeds): the month's estimate is compared with it; alerts go to the contact too.
    monthly_budget = models.DecimalField(_("monthly budget"), max_digits=12, decimal_places=2, null=True, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["category__name", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="group_unique_name_in_category")]

    def __str__(self):
        return f"{self.category.name}:{self.name}"

    @property
    def label(self) -> str:
        """``Category:Group``, as the seed shows groups."""
        return str(self)


class GroupMembershipQuerySet(TenantQuerySet):
    def for_membership(self, membership):
        """A restricted login sees the memberships of its own accounts and of their subscriptions."""
        queryset = super().for_membership(membership)
        if not membership.all_accounts:
            scope = membership.accounts.values("pk")
            queryset = queryset.filter(models.Q(account__in=scope) | models.Q(subscription__account__in=scope))
        return queryset


class GroupMembership(TenantModel):
    """An account number or a subscription in a group for a period of whole months."""

    # Hangs off an account either way (the account itself, or the subscription's): see for_membership.
    account_scope_lookup = None

    objects = GroupMembershipQuerySet.as_manager()

    category = models.ForeignKey(GroupCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="+")
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), on_delete=models.CASCADE,
                                null=True, blank=True, related_name="group_memberships")
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"),
                                     on_delete=models.CASCADE, null=True, blank=True, related_name="group_memberships")
    # [first day of the first month, first day of the month after the last); upper None: open-ended.
    period = DateRangeField(_("period"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["category__name", "period"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(account__isnull=False, subscription__isnull=True)
                           | models.Q(account__isnull=True, subscription__isnull=False)),
                name="group_membership_one_line",
            ),
            models.CheckConstraint(condition=~models.Q(period__isempty=True), name="group_membership_not_empty"),
            ExclusionConstraint(
                name="group_membership_subscription_no_overlap",
                expressions=[("category", RangeOperators.EQUAL), ("subscription", RangeOperators.EQUAL),
                             ("period", RangeOperators.OVERLAPS)],
                condition=models.Q(subscription__isnull=False),
            ),
            ExclusionConstraint(
                name="group_membership_account_no_overlap",
                expressions=[("category", RangeOperators.EQUAL), ("account", RangeOperators.EQUAL),
                             ("period", RangeOperators.OVERLAPS)],
                condition=models.Q(account__isnull=False),
            ),
        ]
        indexes = [
            # The list filters: the lines of a group (the period is checked on the few rows found).
            # (the period included: the lines of a group this month are read from the index alone).
            models.Index(fields=["group", "subscription"], include=["period"],
                         condition=models.Q(subscription__isnull=False), name="group_membership_group_sub_idx"),
            models.Index(fields=["group", "account"], include=["period"], condition=models.Q(account__isnull=False),
                         name="group_membership_group_acc_idx"),
        ]

    def __str__(self):
        return f"{self.group_id}: {self.subscription_id or self.account_id} {self.period}"

    @property
    def start_month(self):
        return self.period.lower

    @property
    def end_month(self):
        """The last month (inclusive), or None when open-ended."""
        from groups.months import month_before

        return month_before(self.period.upper) if self.period.upper else None


class GroupMonth(TenantModel):
    """A company-month whose moves the monthly job has applied (recorded and told): once, ever."""

    month = models.DateField(_("month"))
    moves = models.PositiveIntegerField(_("moves"), default=0)
    applied_at = models.DateTimeField(_("applied"), auto_now_add=True)

    class Meta:
        verbose_name = _("applied group month")
        verbose_name_plural = _("applied group months")
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["company", "month"], name="group_month_once")]


class BudgetAlert(TenantModel):
    """A group's estimate passed a share of its monthly budget: e-mailed once per group, month and threshold."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="budget_alerts")
    month = models.DateField(_("month"))
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    estimate = models.DecimalField(_("estimate"), max_digits=12, decimal_places=2)
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        ordering = ["-month", "group", "threshold"]
        constraints = [models.UniqueConstraint(fields=["group", "month", "threshold"], name="budget_alert_once")]


class GroupUpload(TenantModel):
    """An Excel workbook of categories and groups, or of assignments: checked row by row, then applied whole."""

    class Kind(models.TextChoices):
        STRUCTURE = "structure", _("Categories and groups")
        ASSIGNMENTS = "assignments", _("Assignments of account numbers and subscriptions")

    class Status(models.TextChoices):
        CHECKING = "checking", _("Being checked")
        CHECKED = "checked", _("Checked")
        REFUSED = "refused", _("Refused")
        APPLYING = "applying", _("Being applied")
        APPLIED = "applied", _("Applied")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(storage=private_storage, upload_to="group-uploads/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CHECKING)
    # Why the whole file was refused (a code of groups.uploads.FILE_PROBLEMS, with its values).
    problem = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)  # categories and groups
    refused = models.PositiveIntegerField(_("refused"), default=0)
    # Per row: [row number, outcome, reason code, reason values]; shown by the preview and the report.
    report = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("group upload")
        verbose_name_plural = _("group uploads")
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name

    @property
    def can_apply(self) -> bool:
        return (self.status == self.Status.CHECKED and not self.refused
                and bool(self.created or self.changed or self.deleted))
