"""Invoices: one per billing account per month, its lines, credit notes, gapless numbers, usage pools.

Money is ``Decimal`` with two decimals everywhere; how amounts and VAT are computed and rounded is
written once, in ``invoices.pricing``. Invoices are written by the billing run (``invoices.billing``):
an invoice, all its lines and its totals in one transaction, its number taken from ``NumberSequence``
in that same transaction, so a number is used once and none is skipped.
"""

from datetime import date
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class Currency(models.TextChoices):
    DKK = "DKK", "DKK"
    SEK = "SEK", "SEK"


# The company's country decides the invoice currency.
CURRENCY_BY_COUNTRY = {"DK": Currency.DKK, "SE": Currency.SEK}


class VatCategory(models.TextChoices):
    """UNCL 5305 codes as EN 16931 uses them (BT-118/BT-151)."""

    STANDARD = "S", _("Standard rate")
    ZERO = "Z", _("Zero rated")
    EXEMPT = "E", _("Exempt from VAT")
    OUTSIDE = "O", _("Outside the scope of VAT")


class NumberSequence(models.Model):
    """A gapless number series (invoices, credit notes): one row per series, locked with SELECT … FOR
    UPDATE by the transaction that issues documents and advanced in it, so a rolled-back run gives its
    numbers back and two runs at once take turns (``invoices.numbering``)."""

    class Name(models.TextChoices):
        INVOICE = "invoice", _("Invoices")
        CREDIT_NOTE = "credit_note", _("Credit notes")

    name = models.CharField(_("series"), max_length=20, choices=Name.choices, unique=True)
    last_number = models.BigIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")

    def __str__(self):
        return f"{self.get_name_display()}: {self.last_number}"


class Invoice(TenantModel):
    account_scope_lookup = "account"

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        CREDITED = "credited", _("Credited")

    UNPAID = (Status.OPEN, Status.OVERDUE)

    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="invoices")
    # The billing period: the first day of the month invoiced.
    period = models.DateField(_("period"))
    number = models.BigIntegerField(_("invoice number"), unique=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    payment_reference = models.CharField(_("payment reference"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    net_total = models.DecimalField(_("amount excl. VAT"), **MONEY)
    vat_total = models.DecimalField(_("VAT"), **MONEY)
    gross_total = models.DecimalField(_("amount incl. VAT"), **MONEY)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-period", "-number"]
        constraints = [
            # Running a month twice issues nothing new.
            models.UniqueConstraint(fields=["account", "period"], name="invoice_one_per_account_period"),
            models.CheckConstraint(condition=models.Q(period__day=1), name="invoice_period_first_day"),
            models.CheckConstraint(condition=models.Q(gross_total=models.F("net_total") + models.F("vat_total")),
                                   name="invoice_gross_is_net_plus_vat"),
        ]
        indexes = [
            # The list's default sort and its sort columns within a company (keyset paging).
            models.Index(fields=["company", "-period", "-number"], name="invoice_company_period_idx"),
            models.Index(fields=["company", "status", "-period"], name="invoice_company_status_idx"),
            models.Index(fields=["company", "due_date", "id"], name="invoice_company_due_idx"),
            models.Index(fields=["company", "gross_total", "id"], name="invoice_company_gross_idx"),
            models.Index(fields=["account", "-period"], name="invoice_account_period_idx"),
            # The daily overdue job.
            models.Index(fields=["due_date"], condition=models.Q(status="open"), name="invoice_open_due_idx"),
        ]

    def __str__(self):
        return str(self.number)

    @property
    def is_unpaid(self) -> bool:
        return self.status in self.UNPAID


class InvoiceLine(TenantModel):
    """One charge on an invoice. What the line said at invoicing time is copied (employee, number,
    description), so a later rename does not rewrite an issued invoice."""

    account_scope_lookup = "invoice__account"

    class Kind(models.TextChoices):
        SUBSCRIPTION_FEE = "fee", _("Subscription fee")
        ADD_ON = "add_on", _("Add-on service")
        USAGE = "usage", _("Usage")
        ONE_OFF = "one_off", _("One-off charge")
        CREDIT = "credit", _("Credit")

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    # Keeps the specification's order stable and gives keyset paging a unique key within the invoice.
    position = models.PositiveIntegerField(_("line"))
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    employee_name = models.CharField(_("employee"), max_length=150, blank=True)
    subscription_number = models.CharField(_("number"), max_length=32, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    net_amount = models.DecimalField(_("amount excl. VAT"), **MONEY)
    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices,
                                    default=VatCategory.STANDARD)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("25"))
    # The days charged (a fee pro-rated for a line started, moved or cancelled mid-month).
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    usage_pool = models.ForeignKey("invoices.UsagePool", verbose_name=_("usage pool"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_unique_position"),
            # A completed order is charged exactly once, on whichever invoice first took it.
            models.UniqueConstraint(fields=["order"], condition=models.Q(order__isnull=False, kind="one_off"),
                                    name="invoice_line_order_charged_once"),
        ]
        indexes = [
            # The specification sorted by employee, then line (keyset paging through 50,000 lines).
            models.Index(fields=["invoice", "employee_name", "position"], name="invoice_line_employee_idx"),
            models.Index(fields=["invoice", "subscription_number", "position"], name="invoice_line_number_idx"),
        ]

    def __str__(self):
        return self.description


class InvoiceSubscriptionTotal(TenantModel):
    """The specification's "per user" view: an invoice's charges summed per subscription, written with
    the invoice's lines (so a 50,000-line invoice pages its users without a GROUP BY per page). Lines
    of no subscription (a usage pool, an order for a new user) make one row without a subscription."""

    account_scope_lookup = "invoice__account"

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE,
                                related_name="subscription_totals")
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    employee_name = models.CharField(_("employee"), max_length=150, blank=True)
    subscription_number = models.CharField(_("number"), max_length=32, blank=True)
    line_count = models.PositiveIntegerField(_("lines"))
    net_amount = models.DecimalField(_("amount excl. VAT"), **MONEY)

    class Meta:
        verbose_name = _("charges per subscription")
        verbose_name_plural = _("charges per subscription")
        ordering = ["invoice", "employee_name", "subscription_number"]
        indexes = [
            models.Index(fields=["invoice", "employee_name", "subscription_number", "id"],
                         name="invoice_sub_total_idx"),
            models.Index(fields=["invoice", "net_amount", "id"], name="invoice_sub_total_amount_idx"),
        ]


class CreditNote(TenantModel):
    """Corrects an invoice, fully or for chosen lines. Its own gapless number series."""

    account_scope_lookup = "invoice__account"

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="credit_notes")
    number = models.BigIntegerField(_("credit note number"), unique=True)
    issue_date = models.DateField(_("issue date"))
    reason = models.CharField(_("reason"), max_length=300)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    # Positive amounts: what is credited (a credit note's lines state positive amounts, as UBL wants).
    net_total = models.DecimalField(_("amount excl. VAT"), **MONEY)
    vat_total = models.DecimalField(_("VAT"), **MONEY)
    gross_total = models.DecimalField(_("amount incl. VAT"), **MONEY)
    created_by = models.ForeignKey("accounts.User", verbose_name=_("issued by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issue_date", "-number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(gross_total=models.F("net_total") + models.F("vat_total")),
                                   name="credit_note_gross_is_net_plus_vat"),
        ]
        indexes = [
            models.Index(fields=["company", "-issue_date", "-number"], name="credit_note_company_idx"),
        ]

    def __str__(self):
        return str(self.number)


class CreditNoteLine(TenantModel):
    account_scope_lookup = "credit_note__invoice__account"

    credit_note = models.ForeignKey(CreditNote, verbose_name=_("credit note"), on_delete=models.CASCADE,
                                    related_name="lines")
    position = models.PositiveIntegerField(_("line"))
    # The invoice line credited (None: a free-text credit).
    invoice_line = models.ForeignKey(InvoiceLine, verbose_name=_("invoice line"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="credit_lines")
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    net_amount = models.DecimalField(_("amount excl. VAT"), **MONEY)
    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices,
                                    default=VatCategory.STANDARD)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("25"))

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["credit_note", "position"]
        constraints = [
            models.UniqueConstraint(fields=["credit_note", "position"], name="credit_note_line_unique_position"),
            # An invoice line is credited at most once.
            models.UniqueConstraint(fields=["invoice_line"], condition=models.Q(invoice_line__isnull=False),
                                    name="credit_note_line_credited_once"),
        ]


class UsagePool(TenantModel):
    """A data allowance shared by an account's subscriptions: the member lines' own plan data allowances
    are replaced by the pool's, and the pool's overage is charged once, on the account's invoice."""

    account_scope_lookup = "account"

    account = models.ForeignKey("subscriptions.BillingAccount", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="usage_pools")
    name = models.CharField(_("name"), max_length=100)
    data_gb = models.PositiveIntegerField(_("shared data (GB)"))
    subscriptions = models.ManyToManyField("subscriptions.Subscription", verbose_name=_("lines drawing on it"),
                                           blank=True, through="UsagePoolMember", related_name="usage_pools")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage pool")
        verbose_name_plural = _("usage pools")
        ordering = ["name"]
        indexes = [models.Index(fields=["account"], name="usage_pool_account_idx")]

    def __str__(self):
        return self.name


class UsagePoolMember(TenantModel):
    """A line drawing on a pool; a line draws on one pool at most."""

    account_scope_lookup = "pool__account"

    pool = models.ForeignKey(UsagePool, verbose_name=_("usage pool"), on_delete=models.CASCADE, related_name="members")
    subscription = models.ForeignKey("subscriptions.Subscription", verbose_name=_("subscription"),
                                     on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("line in a usage pool")
        verbose_name_plural = _("lines in usage pools")
        constraints = [models.UniqueConstraint(fields=["subscription"], name="usage_pool_one_per_subscription")]


def month_start(day: date) -> date:
    return day.replace(day=1)


# The documents area (PDF, UBL, e-invoicing) keeps its models in its own module.
from invoices.documents_models import EInvoiceSubscription, InvoiceDocument  # noqa: E402, F401
