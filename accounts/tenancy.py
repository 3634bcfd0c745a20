"""The tenancy core: every customer-side row belongs to one company, and is read through a membership.

``TenantModel`` gives a model its company and ``TenantQuerySet.for_membership``, which scopes to the
membership's company *and* its account scope. Views never build customer-side querysets any other way
(see ``accounts.views_base.TenantView``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TenantQuerySet(models.QuerySet):
    def for_membership(self, membership):
        """Rows this membership may see: its company, and its account numbers when it is restricted."""
        queryset = self.filter(company_id=membership.company_id)
        lookup = self.model.account_scope_lookup
        if lookup and not membership.all_accounts:
            queryset = queryset.filter(**{f"{lookup}__in": membership.accounts.values("pk")})
        return queryset


class TenantModel(models.Model):
    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )

    # The path from this model to its BillingAccount ("pk" for the account itself, "account" for a
    # subscription), used to apply a membership's restricted account scope. None: not account-scoped.
    account_scope_lookup: str | None = None

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
