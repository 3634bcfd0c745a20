"""Products, orders and the company's approval chains.

An order belongs to a company and to one of its billing accounts (``account``): the account of the
employee's subscription when ordered for an existing user, or the account chosen on the form for a
new user. So a login restricted to some account numbers sees exactly the orders of those accounts.

Statuses move only through ``selfcare.workflow.transition`` (the machine is ``Order.workflow``), and
every move is an ``OrderEvent`` on the order's timeline.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from selfcare.workflow import TimelineEvent, Workflow
from subscriptions.models import BillingAccount, SubscriptionType

MAX_QUANTITY = 999
MAX_APPROVERS = 5


class ProductArea(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    FIXED = "fixed", _("Fixed telephony")
    DATA = "data", _("Data")


class Product(models.Model):
    """The operator's catalogue (not a company's): kept by staff in the back office."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0"))],
                                help_text=_("One-off price per unit, excluding VAT."))
    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices)
    active = models.BooleanField(_("can be ordered"), default=True,
                                 help_text=_("Untick to withdraw the product: it can no longer be ordered."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["area", "name"]

    def __str__(self):
        return self.name


class Order(TenantModel):
    account_scope_lookup = "account"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        RECEIVED = "received", _("Received by the operator")
        IN_PROGRESS = "in_progress", _("In progress")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")
        # A quote: for anything outside the framework agreement. Staff price it; the customer accepts
        # it (then it is an order, approved like any other) or declines it.
        QUOTE_REQUESTED = "quote_requested", _("Quote requested")
        QUOTE_OFFERED = "quote_offered", _("Quote received")
        QUOTE_DECLINED = "quote_declined", _("Quote declined")

    OPEN = (Status.DRAFT, Status.QUOTE_REQUESTED, Status.QUOTE_OFFERED, Status.AWAITING_APPROVAL, Status.RECEIVED,
            Status.IN_PROGRESS, Status.SHIPPED)
    CLOSED = (Status.COMPLETED, Status.REJECTED, Status.QUOTE_DECLINED)
    # What the operator's staff move in the back office.
    OPERATOR_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.SHIPPED)

    class ContactMethod(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")

    workflow = Workflow(
        event_model="orders.OrderEvent",
        transitions={
            # Submitting: to the first approver, or straight to the operator without a chain.
            Status.DRAFT: {Status.AWAITING_APPROVAL, Status.RECEIVED, Status.QUOTE_REQUESTED},
            # A quote: priced by staff (or refused), then accepted (on as an order) or declined.
            Status.QUOTE_REQUESTED: {Status.QUOTE_OFFERED, Status.REJECTED},
            Status.QUOTE_OFFERED: {Status.AWAITING_APPROVAL, Status.RECEIVED, Status.QUOTE_DECLINED},
            # Approved by one of several (stays), by the last (received), rejected, or taken back to
            # draft by its creator to change it.
            Status.AWAITING_APPROVAL: {Status.AWAITING_APPROVAL, Status.RECEIVED, Status.REJECTED, Status.DRAFT},
            Status.RECEIVED: {Status.IN_PROGRESS, Status.REJECTED},
            # A change is not shipped: staff (or the operator's systems) complete it from "in progress".
            Status.IN_PROGRESS: {Status.SHIPPED, Status.COMPLETED, Status.REJECTED},
            Status.SHIPPED: {Status.COMPLETED},
        },
    )

    # None for a change (``is_change``): it asks about something the company has, not a product.
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+",
                                null=True, blank=True)
    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices)
    quantity = models.PositiveIntegerField(_("quantity"), default=1,
                                           validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)])
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="orders")
    for_new_user = models.BooleanField(_("for a new user"), default=False)
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("employee's subscription"),
                                     null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    employee_name = models.CharField(_("employee"), max_length=150)
    delivery_name = models.CharField(_("recipient"), max_length=150, blank=True)
    delivery_street = models.CharField(_("street and number"), max_length=200)
    delivery_postal_code = models.CharField(_("postal code"), max_length=10)
    delivery_city = models.CharField(_("city"), max_length=100)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_method = models.CharField(_("how to contact"), max_length=10, choices=ContactMethod.choices,
                                      default=ContactMethod.EMAIL)
    extra_contact_name = models.CharField(_("extra contact person"), max_length=150, blank=True)
    extra_contact_email = models.EmailField(_("extra contact e-mail"), blank=True)
    extra_contact_phone = models.CharField(_("extra contact phone"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=1000)

    # A change: a request about an existing subscription, account or connection (``OrderChange``),
    # drafted, approved and followed up as any order.
    is_change = models.BooleanField(_("change"), default=False, editable=False)
    is_quote = models.BooleanField(_("quote"), default=False,
                                   help_text=_("Outside the framework agreement: the operator prices it first."))
    quote_note = models.TextField(_("the operator's offer"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Bumped by every change of content (an edited draft, a submission): approval links are bound to it.
    version = models.PositiveIntegerField(_("version"), default=1)
    # The form's one-time key: a double click, two tabs or a retried request make one order.
    idempotency_key = models.UUIDField(_("form key"), default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # A copy of what was submitted, shown on the order as it was sent (the catalogue may change later).
    submitted_copy = models.JSONField(_("as submitted"), default=dict, blank=True, editable=False)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "idempotency_key"], name="order_one_per_form_key"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1, quantity__lte=MAX_QUANTITY),
                                   name="order_quantity_range"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "-created_at"], name="order_company_status_idx"),
            # The lists' default order (newest first), read in index order up to a page.
            models.Index(fields=["company", "-created_at", "-id"], name="order_company_created_idx"),
            models.Index(fields=["account", "-created_at"], name="order_account_idx"),
            # The changes' lists (a company's changes are few beside its orders).
            models.Index(fields=["company", "-created_at", "-id"], condition=models.Q(is_change=True),
                         name="order_change_created_idx"),
        ]

    def __str__(self):
        if self.is_change:
            return _("Change %(number)s") % {"number": self.number}
        return _("Order %(number)s") % {"number": self.number}

    @property
    def title(self) -> str:
        """What it is about, in a few words: the product, or the change's kind."""
        if self.product_id:
            return self.product.name
        change = getattr(self, "change", None) if self.pk else None
        return str(change.get_kind_display()) if change is not None else str(_("Change"))

    @property
    def number(self) -> str:
        return f"{self.pk:06d}" if self.pk else "–"

    @property
    def total(self) -> Decimal:
        return (self.unit_price or Decimal("0")) * self.quantity

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def delivery_lines(self) -> list[str]:
        return [line for line in (self.delivery_name, self.delivery_street,
                                  f"{self.delivery_postal_code} {self.delivery_city}") if line]


class OrderEvent(TenantModel, TimelineEvent):
    """The order's timeline (``selfcare.workflow``)."""

    account_scope_lookup = "subject__account"

    KIND_LABELS = {
        "created": _("Created as a draft"),
        "edited": _("Draft changed"),
        "approved": _("Approved"),
        "approval_requested": _("Sent for approval"),
        "handed_on": _("Approval handed on"),
        "withdrawn": _("Taken back to draft"),
        "provisioning": _("Sent to the operator's systems"),
        "provisioning_busy": _("A change of this kind is already under way for the line: the operator's staff see "
                               "to this one"),
    }

    subject = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [models.Index(fields=["subject", "at"], name="order_event_subject_idx")]


class ApprovalChain(TenantModel):
    """A company's chain for one product area: the row the chain's edits (and submissions) lock.

    ``version`` is bumped by every edit; a waiting approval step remembers the version it was made
    under, so a link can tell that the chain changed since it was sent.
    """

    area = models.CharField(_("product area"), max_length=10, choices=ProductArea.choices)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("approval chain")
        verbose_name_plural = _("approval chains")
        constraints = [models.UniqueConstraint(fields=["company", "area"], name="approval_chain_one_per_area")]

    def __str__(self):
        return f"{self.company_id}: {self.get_area_display()}"


class ApprovalChainMember(TenantModel):
    """One position (1..5) of a chain: a login of the company that holds "approve orders"."""

    chain = models.ForeignKey(ApprovalChain, verbose_name=_("approval chain"), on_delete=models.CASCADE,
                              related_name="members")
    position = models.PositiveSmallIntegerField(
        _("position"), validators=[MinValueValidator(1), MaxValueValidator(MAX_APPROVERS)])
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.CASCADE,
                                 related_name="+")

    class Meta:
        verbose_name = _("approver in a chain")
        verbose_name_plural = _("approvers in a chain")
        ordering = ["chain", "position"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "position"], name="approval_chain_one_per_position"),
            models.CheckConstraint(condition=models.Q(position__gte=1, position__lte=MAX_APPROVERS),
                                   name="approval_chain_position_range"),
        ]


class OrderApproval(TenantModel):
    """One step of an order's approval: the approver at a position of the chain, asked by e-mail.

    The e-mailed link is this step's: it works once (the step is decided), for 7 days, for this
    approver, and only while the order and the chain are as they were when it was sent.
    """

    account_scope_lookup = "order__account"

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting a decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        # No longer asked: the chain or the order changed meanwhile.
        SUPERSEDED = "superseded", _("No longer asked")

    class Superseded(models.TextChoices):
        CHAIN_CHANGED = "chain_changed", _("The approval chain changed.")
        ORDER_CHANGED = "order_changed", _("The order changed.")
        STAND_IN = "stand_in", _("The approver is away: a stand-in decides.")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="approvals")
    position = models.PositiveSmallIntegerField(_("position"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.SET_NULL,
                                 null=True, related_name="+")
    approver_label = models.CharField(_("approver"), max_length=200)
    # Set when the step was asked of a stand-in: the chain's approver, who is away.
    stands_in_for = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("stands in for"),
                                      on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    superseded_because = models.CharField(_("why no longer asked"), max_length=20, choices=Superseded.choices,
                                          blank=True)
    order_version = models.PositiveIntegerField(_("order version"))
    chain_version = models.PositiveIntegerField(_("chain version"))
    # The link's secret, hashed; the link itself is signed, so a changed link is told apart.
    token_hash = models.CharField(_("hash of the link"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("link expires"))
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # Since when the order waits at this position: the step's own asking, or, for a step handed to a
    # stand-in, the asking of the step it replaces (the wait, and a reminder sent, carry over).
    waiting_since = models.DateTimeField(_("waiting since"), default=timezone.now)
    # The reminder (once, after more than REMINDER_AFTER_WORKING_DAYS working days) and its own link,
    # which works like the first one (same step, same limits) and expires 7 days after it was sent.
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    reminder_token_hash = models.CharField(_("hash of the reminder's link"), max_length=64, unique=True, null=True,
                                           blank=True)
    reminder_expires_at = models.DateTimeField(_("reminder's link expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["order", "created_at", "pk"]
        constraints = [
            # Never two approvers asked at once for one order.
            models.UniqueConstraint(fields=["order"], condition=models.Q(status="pending"),
                                    name="order_approval_one_pending"),
        ]
        indexes = [
            models.Index(fields=["approver", "company"], condition=models.Q(status="pending"),
                         name="order_approval_waiting_idx"),
            # The hourly reminder run: waiting steps not yet reminded, oldest first.
            models.Index(fields=["waiting_since"], condition=models.Q(status="pending", reminded_at__isnull=True),
                         name="order_approval_remind_idx"),
        ]


class ApproverAbsence(TenantModel):
    """An approver's absence: from ``starts_on`` to ``ends_on`` (both included) its approval steps go to
    ``stand_in``, a colleague who holds "approve orders" (new steps, and those already waiting)."""

    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.CASCADE,
                                 related_name="+")
    stand_in = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("stand-in"), on_delete=models.CASCADE,
                                 related_name="+")
    starts_on = models.DateField(_("away from"))
    ends_on = models.DateField(_("away until"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="absence_period_order"),
            models.CheckConstraint(condition=~models.Q(stand_in=models.F("approver")), name="absence_not_self"),
            # One absence per approver and company (it is replaced, not stacked).
            models.UniqueConstraint(fields=["company", "approver"], name="absence_one_per_approver"),
        ]


class NewSubscription(TenantModel):
    """What the step-by-step guide asked for: the order's new subscription.

    The order goes through the same approval and fulfilment as any other; when staff complete it, a
    provisioning request of the kind "create" (``change_request``) is written once, and the operator's
    system makes the subscription (``subscriptions.services``). ``change_request`` set means: asked.
    """

    account_scope_lookup = "order__account"

    class Sim(models.TextChoices):
        SPARE = "spare", _("A spare SIM card we hold")
        NEW = "new", _("A new SIM card, sent to us")
        ESIM = "esim", _("An eSIM")

    class NumberChoice(models.TextChoices):
        NEW = "new", _("A new number")
        PORT = "port", _("Take over a number from another operator")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                                 related_name="new_subscription")
    employee_name = models.CharField(_("employee"), max_length=150)
    employee_email = models.EmailField(_("employee e-mail"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=SubscriptionType.choices)
    plan = models.ForeignKey("subscriptions.PricePlan", verbose_name=_("price plan"), on_delete=models.PROTECT,
                             related_name="+")
    add_ons = models.ManyToManyField("subscriptions.AddOn", verbose_name=_("add-on services"), blank=True,
                                     related_name="+")
    sim = models.CharField(_("SIM card"), max_length=10, choices=Sim.choices)
    spare_sim = models.ForeignKey("subscriptions.SimCard", verbose_name=_("spare SIM card"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    number_choice = models.CharField(_("number"), max_length=10, choices=NumberChoice.choices)
    port_number = models.CharField(_("number to take over"), max_length=32, blank=True)
    port_operator = models.CharField(_("current operator"), max_length=100, blank=True)
    port_date = models.DateField(_("wished porting date"), null=True, blank=True)
    start_date = models.DateField(_("start date"))
    change_request = models.OneToOneField("subscriptions.ChangeRequest", verbose_name=_("provisioning request"),
                                          null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("new subscription")
        verbose_name_plural = _("new subscriptions")


class OrderChange(TenantModel):
    """What a change asks for: an order of its own kind (``Order.is_change``) about an existing
    subscription, billing account or connection, with the same drafts, approval chain, links, timeline,
    status e-mails and back office as any order.

    The order's ``subscription`` and ``account`` (and ``connection`` here) are what the change is
    about, fixed by the page it was started from. When the change reaches the operator, a plan or
    add-on change becomes one provisioning request (``change_request``: set means asked, so once);
    the other kinds are carried out by staff in the back office.
    """

    account_scope_lookup = "order__account"

    class Kind(models.TextChoices):
        PLAN = "plan", _("Change of price plan")
        ADD_ON = "add_on", _("Add or remove an add-on service")
        ADDRESS = "address", _("Change of address")
        CONTACT = "contact", _("Change of contact details")
        BILLING = "billing", _("Change of billing details")
        OTHER = "other", _("Other change")

    class Subject(models.TextChoices):
        SUBSCRIPTION = "subscription", _("Subscription")
        ACCOUNT = "account", _("Account")
        CONNECTION = "connection", _("Connection")

    class When(models.TextChoices):
        NOW = "now", _("Now")
        NEXT_MONTH = "next_month", _("The 1st of next month")

    class AddOnAction(models.TextChoices):
        ADD = "add", _("Add")
        REMOVE = "remove", _("Remove")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="change")
    kind = models.CharField(_("kind of change"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("about"), max_length=15, choices=Subject.choices)
    connection = models.ForeignKey("subscriptions.Connection", verbose_name=_("connection"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("subscriptions.PricePlan", verbose_name=_("new price plan"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    plan_when = models.CharField(_("from"), max_length=10, choices=When.choices, blank=True)
    add_on = models.ForeignKey("subscriptions.AddOn", verbose_name=_("add-on service"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    add_on_action = models.CharField(_("add or remove"), max_length=10, choices=AddOnAction.choices, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    new_contact_name = models.CharField(_("new contact person"), max_length=150, blank=True)
    new_contact_email = models.EmailField(_("new contact e-mail"), blank=True)
    new_contact_phone = models.CharField(_("new contact phone"), max_length=20, blank=True)
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)
    ean = models.CharField(_("EAN"), max_length=13, blank=True)
    invoice_format = models.CharField(_("invoice format"), max_length=20, blank=True,
                                      choices=BillingAccount.InvoiceFormat.choices)
    wished_date = models.DateField(_("wished date"), null=True, blank=True)
    description = models.TextField(_("what to change"), blank=True, max_length=2000)
    change_request = models.OneToOneField("subscriptions.ChangeRequest", verbose_name=_("provisioning request"),
                                          null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
