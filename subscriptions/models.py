from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


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

    class Type(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        TELEPHONY = "telephony", _("Telephony")
        INTERNET = "internet", _("Internet")
        CIRCUIT = "circuit", _("Circuit")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        TERMINATED = "terminated", _("Terminated")

    account = models.ForeignKey(
        BillingAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.MOBILE)
    number = models.CharField(_("number"), max_length=32)
    employee_name = models.CharField(_("employee"), max_length=150)
    employee_email = models.EmailField(_("employee e-mail"), blank=True)
    price_plan = models.CharField(_("price plan"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    invoice_note = models.CharField(_("invoice note"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["employee_name", "number"]
        indexes = [
            # The overview's default sort, and the per-company status/type figures.
            models.Index(fields=["company", "employee_name", "number"], name="subscription_company_name_idx"),
            models.Index(fields=["company", "status", "type"], name="subscription_company_stat_idx"),
            models.Index(fields=["account", "employee_name"], name="subscription_account_name_idx"),
        ]

    def __str__(self):
        return f"{self.employee_name} ({self.number})"
