from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from selfcare.search import search_document_expression
from subscriptions.crypto import decrypt, encrypt


class SubscriptionType(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    TELEPHONY = "telephony", _("Telephony")
    INTERNET = "internet", _("Internet")
    CIRCUIT = "circuit", _("Circuit")


class PricePlan(models.Model):
    """The operator's catalogue of price plans (not a company's): what a subscription is billed as,
    with the allowances its usage is measured against. None for an allowance means unlimited."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=SubscriptionType.choices)
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=10, decimal_places=2)
    data_gb = models.PositiveIntegerField(_("data (GB)"), null=True, blank=True)
    voice_minutes = models.PositiveIntegerField(_("voice (minutes)"), null=True, blank=True)
    sms_count = models.PositiveIntegerField(_("SMS"), null=True, blank=True)
    active = models.BooleanField(_("can be chosen"), default=True)

    class Meta:
        verbose_name = _("price plan")
        verbose_name_plural = _("price plans")
        ordering = ["type", "monthly_fee", "name"]

    def __str__(self):
        return self.name


class AddOn(models.Model):
    """An add-on service from the operator's catalogue (e.g. roaming, extra data, voicemail)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=SubscriptionType.choices)
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=10, decimal_places=2)
    active = models.BooleanField(_("can be chosen"), default=True)

    class Meta:
        verbose_name = _("add-on service")
        verbose_name_plural = _("add-on services")
        ordering = ["type", "name"]

    def __str__(self):
        return self.name


class BillingAccount(TenantModel):
    """A customer number ("kontonummer" / "kundnummer"): the unit invoices and account scope hang off."""

    account_scope_lookup = "pk"

    class InvoiceFormat(models.TextChoices):
        PDF_EMAIL = "pdf_email", _("PDF by e-mail")
        EAN = "ean", _("E-invoice (EAN)")
        PAPER = "paper", _("Paper")

    number = models.CharField(_("account number"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    ean = models.CharField(_("EAN"), max_length=13, blank=True)
    invoice_format = models.CharField(
        _("invoice format"), max_length=20, choices=InvoiceFormat.choices, default=InvoiceFormat.PDF_EMAIL
    )

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["number"], name="billing_account_unique_number")]
        indexes = [models.Index(fields=["company", "number"], name="billing_account_company_idx")]

    def __str__(self):
        return f"{self.number} {self.name}"


class Subscription(TenantModel):
    account_scope_lookup = "account"

    Type = SubscriptionType

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        TERMINATED = "terminated", _("Terminated")

    # Indexed by subscription_account_id_idx (account, id) instead of the foreign key's own index.
    account = models.ForeignKey(
        BillingAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="subscriptions",
        db_index=False,
    )
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.MOBILE)
    number = models.CharField(_("number"), max_length=32)
    employee_name = models.CharField(_("employee"), max_length=150)
    employee_email = models.EmailField(_("employee e-mail"), blank=True)
    plan = models.ForeignKey(
        PricePlan, verbose_name=_("price plan"), on_delete=models.PROTECT, related_name="subscriptions",
        null=True, blank=True,
    )
    add_ons = models.ManyToManyField(AddOn, verbose_name=_("add-on services"), blank=True, related_name="+")
    block_reason = models.CharField(_("block reason"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    invoice_note = models.CharField(_("invoice note"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # What the list's search (and the order form's employee suggestions) read: the employee, the number and
    # the e-mail, upper-cased, in one stored column with one trigram index (selfcare.search).
    search_document = models.GeneratedField(
        expression=search_document_expression("employee_name", "number", "employee_email"),
        output_field=models.TextField(), db_persist=True, editable=False,
    )
    # The first day it is billed for (invoices.billing); empty: the day it was created.
    activated_on = models.DateField(_("active from"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["employee_name", "number"]
        indexes = [
            # The overview's default sort, and the per-company status/type figures.
            models.Index(fields=["company", "employee_name", "number"], name="subscription_company_name_idx"),
            models.Index(fields=["company", "status", "type"], name="subscription_company_stat_idx"),
            models.Index(fields=["account", "employee_name"], name="subscription_account_name_idx"),
            # An account's line ids without reading the lines (an index-only scan): the lines a group
            # holds through its accounts (groups.selectors), 42,000 of them read in 5 ms instead of 150.
            models.Index(fields=["account", "id"], name="subscription_account_id_idx"),
            # The list's sort columns (keyset paging reads them in order). Substring search uses the
            # trigram indexes of migration 0005 (raw SQL: UPPER(column) gin_trgm_ops, what icontains compares).
            models.Index(fields=["company", "employee_email", "id"], name="subscription_email_idx"),
            models.Index(fields=["company", "number", "id"], name="subscription_number_idx"),
            # The list filtered by plan and status: its count is an index-only scan (at 500,000 lines a
            # bitmap scan of the plan's rows took 180 ms).
            models.Index(fields=["company", "plan", "status"], name="subscription_plan_status_idx"),
            GinIndex(fields=["search_document"], opclasses=["gin_trgm_ops"], name="subscription_search_trgm"),
        ]

    def __str__(self):
        return f"{self.employee_name} ({self.number})"

    def clean(self):
        super().clean()
        # The database refuses it too (migration 0002); this gives the back office a message instead.
        if self.account_id and self.company_id and self.account.company_id != self.company_id:
            raise ValidationError({"account": _("The account belongs to another company than the subscription.")})

class SubscriptionCount(TenantModel):
    """How many lines an account has per status and type: the overview's figures, read from a few hundred
    rows instead of counting up to 500,000 lines on every visit.

    Kept by statement-level triggers on the subscriptions table (migration 0011), in the same transaction
    as every insert, update and delete there, whatever wrote it (the ORM, a bulk update, COPY, the back
    office), so the figures are never stale and nothing has to be invalidated. Never written by Python.
    """

    account_scope_lookup = "account"

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Subscription.Status.choices)
    type = models.CharField(max_length=20, choices=Subscription.Type.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status", "type"],
                                               name="subscription_count_once")]

    def __str__(self):
        return f"{self.account_id} {self.status} {self.type}: {self.count}"


class SimCard(TenantModel):
    """A SIM card or eSIM profile the company holds: in a subscription, or spare (no subscription)."""

    account_scope_lookup = None  # spare cards belong to the company, not to an account

    class Status(models.TextChoices):
        SPARE = "spare", _("Spare")
        ACTIVE = "active", _("In use")
        REPLACED = "replaced", _("Replaced")

    iccid = models.CharField(_("ICCID"), max_length=22, unique=True)
    is_esim = models.BooleanField(_("eSIM"), default=False)
    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.PROTECT, related_name="sim_cards",
        null=True, blank=True,
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SPARE)
    # PUK codes, encrypted at rest (subscriptions.crypto; the key comes from the environment).
    puk1_encrypted = models.BinaryField(editable=False)
    puk2_encrypted = models.BinaryField(editable=False)
    # An eSIM profile's activation code (LPA:1$…), shown as a QR code once the change is done.
    activation_code = models.CharField(_("activation code"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("SIM card")
        verbose_name_plural = _("SIM cards")
        ordering = ["iccid"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"], condition=models.Q(status="active"), name="sim_one_active_per_subscription"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="active") | models.Q(subscription__isnull=False),
                name="sim_active_has_subscription",
            ),
        ]

    def __str__(self):
        return self.iccid

    def set_puk_codes(self, puk1: str, puk2: str) -> None:
        self.puk1_encrypted = encrypt(puk1)
        self.puk2_encrypted = encrypt(puk2)

    def puk_codes(self) -> tuple[str, str]:
        return decrypt(bytes(self.puk1_encrypted)), decrypt(bytes(self.puk2_encrypted))


class Connection(TenantModel):
    """A circuit or fixed data line at an address ("forbindelse" / "förbindelse")."""

    account_scope_lookup = "account"

    class ServiceType(models.TextChoices):
        FIBRE = "fibre", _("Fibre")
        COPPER = "copper", _("Copper (xDSL)")
        COAX = "coax", _("Coax")
        FIXED_WIRELESS = "wireless", _("Fixed wireless")
        MPLS = "mpls", _("MPLS / IP VPN")

    account = models.ForeignKey(
        BillingAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="connections"
    )
    circuit_id = models.CharField(_("circuit id"), max_length=40)
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    capacity_mbps = models.PositiveIntegerField(_("capacity (Mbit/s)"))
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    services = models.CharField(_("services"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["city", "street", "circuit_id"]
        constraints = [models.UniqueConstraint(fields=["circuit_id"], name="connection_unique_circuit")]
        indexes = [models.Index(fields=["company", "city"], name="connection_company_city_idx")]

    def __str__(self):
        return f"{self.circuit_id} {self.street}, {self.city}"


class UsageRecord(TenantModel):
    """A subscription's usage in one billing period (the first day of the month)."""

    account_scope_lookup = "subscription__account"

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="usage"
    )
    period = models.DateField(_("period"))
    data_mb = models.PositiveBigIntegerField(_("data (MB)"), default=0)
    voice_minutes = models.PositiveIntegerField(_("voice (minutes)"), default=0)
    sms_count = models.PositiveIntegerField(_("SMS"), default=0)

    class Meta:
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="usage_one_per_period")]


class ChangeRequest(TenantModel):
    """A change to a subscription that the operator's systems carry out (the provisioning port).

    It is the provisioning outbox: written in the same transaction as the user's request, sent to the
    port by a worker (``subscriptions.provisioning``) with retries, exactly once, and completed when the
    port reports back. Its effect on the subscription is applied only then.
    """

    account_scope_lookup = "subscription__account"

    class Action(models.TextChoices):
        BLOCK = "block", _("Block")
        UNBLOCK = "unblock", _("Unblock")
        CHANGE_PLAN = "change_plan", _("Change price plan")
        ADD_ADD_ON = "add_add_on", _("Add add-on service")
        REMOVE_ADD_ON = "remove_add_on", _("Remove add-on service")
        CHANGE_SIM = "change_sim", _("Change SIM card")
        MOVE_ACCOUNT = "move_account", _("Move to another account")
        CANCEL = "cancel", _("Cancel the subscription")
        TRANSFER = "transfer", _("Transfer to the employee")
        # A new subscription (an order of the step-by-step guide, completed): the subscription is made
        # when the operator's system reports it done; until then the request has no subscription.
        CREATE = "create", _("New subscription")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent to the operator")
        # Accepted by the operator; takes effect on effective_date (applied by the daily beat job).
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETED = "completed", _("Done")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        REFUSED = "refused", _("The operator's system refused the change for this number.")
        UNAVAILABLE = "unavailable", _("The operator's system could not be reached. Try again later.")
        STATE_CHANGED = "state_changed", _("The subscription changed before this change could be made.")

    OPEN = (Status.PENDING, Status.SENT, Status.SCHEDULED)

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.PROTECT, related_name="change_requests",
        null=True, blank=True,
    )
    action = models.CharField(_("change"), max_length=20, choices=Action.choices)
    params = models.JSONField(_("details"), default=dict, blank=True)
    # The day the change takes effect (a plan change from next month, a cancellation at a date).
    effective_date = models.DateField(_("takes effect"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.SET_NULL, null=True,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    operator_reference = models.CharField(_("operator reference"), max_length=100, blank=True)
    failure = models.CharField(_("reason"), max_length=20, choices=Failure.choices, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A double click (or two colleagues at once) makes one request: one open change of a kind
            # per subscription.
            models.UniqueConstraint(
                fields=["subscription", "action"], condition=models.Q(status__in=["pending", "sent", "scheduled"]),
                name="change_request_one_open_per_action",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="change_request_pending_idx"),
            models.Index(fields=["effective_date"], condition=models.Q(status="scheduled"), name="change_request_due_idx"),
            models.Index(fields=["subscription", "-created_at"], name="change_request_sub_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.subscription_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class SubscriptionEvent(TenantModel):
    """The subscription's history: every change, with who and when (the employee page's timeline)."""

    account_scope_lookup = "subscription__account"

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept when the login is removed later.
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    action = models.CharField(_("change"), max_length=20, choices=ChangeRequest.Action.choices + [
        ("invoice_note", _("Invoice note")), ("failed", _("Failed")),
    ])
    change_request = models.ForeignKey(
        ChangeRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    @property
    def by_label(self) -> str:
        """Who, as the customer reads it: the person, or "the operator" for its staff (never named to
        customers, as on the other timelines: ``selfcare.workflow.TimelineEvent.by_label``) and for a
        change without a person. Read with ``select_related("actor")``."""
        if not self.actor_label or (self.actor_id is not None and self.actor.is_staff):
            return gettext("the operator")
        return self.actor_label

    def summary(self) -> str:
        """What changed, in the reader's language ("Price plan: Mobil Basis 10 GB → Mobil Fri 50 GB")."""
        if self.action == "failed":
            action = dict(ChangeRequest.Action.choices).get(self.after.get("action"), "")
            failure = dict(ChangeRequest.Failure.choices).get(self.after.get("failure"), "")
            return f"{action}: {failure}"
        parts = []
        for key, after in self.after.items():
            label = EVENT_FIELD_LABELS.get(key, key)
            before = self.before.get(key)
            if before in (None, "", []):
                parts.append(f"{label}: {_event_value(key, after)}")
            else:
                parts.append(f"{label}: {_event_value(key, before)} → {_event_value(key, after)}")
        return "; ".join(parts)

    class Meta:
        verbose_name = _("subscription event")
        verbose_name_plural = _("subscription events")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subscription", "-at"], name="subscription_event_idx")]


class PlanChange(TenantModel):
    """A price plan change as carried out, with the day it took effect: the billing run charges the days
    before it at ``plan_before`` and the days from it at ``plan_after`` (invoices.billing). Written with
    the change's history entry; lines that never changed plan have none."""

    account_scope_lookup = "subscription__account"

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="plan_changes"
    )
    changed_on = models.DateField(_("takes effect"))
    plan_before = models.ForeignKey(PricePlan, verbose_name=_("price plan before"), on_delete=models.PROTECT,
                                    null=True, related_name="+")
    plan_after = models.ForeignKey(PricePlan, verbose_name=_("price plan after"), on_delete=models.PROTECT,
                                   null=True, related_name="+")
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")

    class Meta:
        verbose_name = _("price plan change")
        verbose_name_plural = _("price plan changes")
        ordering = ["subscription", "changed_on", "pk"]
        indexes = [models.Index(fields=["changed_on", "subscription"], name="plan_change_day_idx")]


class AddOnChange(TenantModel):
    """An add-on service added to or removed from a line, with the day it took effect: the billing run
    charges an add-on for the days the line had it (invoices.billing)."""

    account_scope_lookup = "subscription__account"

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="add_on_changes"
    )
    changed_on = models.DateField(_("takes effect"))
    add_on = models.ForeignKey(AddOn, verbose_name=_("add-on service"), on_delete=models.PROTECT, related_name="+")
    added = models.BooleanField(_("added"))  # False: removed
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")

    class Meta:
        verbose_name = _("add-on service change")
        verbose_name_plural = _("add-on service changes")
        ordering = ["subscription", "changed_on", "pk"]
        indexes = [models.Index(fields=["changed_on", "subscription"], name="add_on_change_day_idx")]


EVENT_FIELD_LABELS = {
    "status": _("Status"),
    "block_reason": _("Reason"),
    "plan": _("Price plan"),
    "add_ons": _("Add-on services"),
    "iccid": _("SIM card"),
    "account": _("Account"),
    "invoice_note": _("Invoice note"),
}


def _event_value(key, value) -> str:
    from subscriptions.services import BlockReason

    if key == "status":
        return str(dict(Subscription.Status.choices).get(value, value))
    if key == "block_reason":
        return str(dict(BlockReason.CHOICES).get(value, value)) if value else "–"
    if isinstance(value, list):
        return ", ".join(value) if value else "–"
    return str(value) if value not in (None, "") else "–"
