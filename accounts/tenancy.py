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


# The database's own guarantee ------------------------------------------------------------------
# A tenant-owned row that refers to another tenant-owned row must refer to one of its own company.
# The ORM scoping above keeps views honest; these constraints make PostgreSQL refuse anything else
# too (the back office, a bulk path, raw SQL). Use them in a migration for every such reference:
#
#     operations = [
#         *tenant_key("subscriptions_billingaccount"),
#         *same_company_reference(table="subscriptions_subscription", column="account_id",
#                                 referenced_table="subscriptions_billingaccount"),
#     ]
#
# They are composite foreign keys on (id, company_id), so they also refuse moving the referenced row
# to another company while something of the old company still points at it. They are checked at
# once (a clear error at the statement that breaks the rule); a service that moves a row and its
# dependants together can say ``SET CONSTRAINTS ALL DEFERRED`` inside its transaction.

def _constraint_name(*parts: str) -> str:
    import hashlib

    name = "_".join(parts)
    if len(name) <= 63:  # PostgreSQL's identifier limit
        return name
    return f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def tenant_key(table: str, *, company_column: str = "company_id"):
    """UNIQUE (id, company_id) on a table that others refer to with the company in the key."""
    from django.db import migrations

    name = _constraint_name(table, "id", "company", "key")
    return [migrations.RunSQL(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE ("id", "{company_column}")',
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
    )]


def same_company_reference(*, table: str, column: str, referenced_table: str, company_column: str = "company_id"):
    """FOREIGN KEY (column, company_id) REFERENCES referenced_table (id, company_id).

    ``referenced_table`` needs its ``tenant_key`` first. A NULL in ``column`` is allowed as usual.
    """
    from django.db import migrations

    name = _constraint_name(table, column, "same_company")
    return [migrations.RunSQL(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}", "{company_column}") '
        f'REFERENCES "{referenced_table}" ("id", "{company_column}") DEFERRABLE INITIALLY IMMEDIATE',
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
    )]


def same_company_link(*, table: str, owner_column: str, owner_table: str, references: list[tuple[str, str]]):
    """For a many-to-many table (Django's own through table): both ends in the same company.

    Gives the link table a ``company_id`` column that a trigger fills from the owner row (so the
    ORM, which does not know the column, keeps working), then a same-company foreign key to the
    owner and to each ``(column, referenced_table)`` in ``references``. The owner table and the
    referenced tables need their ``tenant_key`` first.
    """
    from django.db import migrations

    function = _constraint_name(table, "company_fill")
    trigger = _constraint_name(table, "company_fill", "trg")
    operations = [migrations.RunSQL(
        [
            f'ALTER TABLE "{table}" ADD COLUMN "company_id" bigint',
            f'UPDATE "{table}" AS link SET "company_id" = owner."company_id" FROM "{owner_table}" AS owner '
            f'WHERE owner."id" = link."{owner_column}"',
            f'ALTER TABLE "{table}" ALTER COLUMN "company_id" SET NOT NULL',
            # The company always comes from the owner row, whatever the statement says.
            f'''CREATE FUNCTION "{function}"() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW."company_id" := (SELECT "company_id" FROM "{owner_table}" WHERE "id" = NEW."{owner_column}");
                    RETURN NEW;
                END $$''',
            f'CREATE TRIGGER "{trigger}" BEFORE INSERT OR UPDATE ON "{table}" '
            f'FOR EACH ROW EXECUTE FUNCTION "{function}"()',
        ],
        [
            f'DROP TRIGGER "{trigger}" ON "{table}"',
            f'DROP FUNCTION "{function}"()',
            f'ALTER TABLE "{table}" DROP COLUMN "company_id"',
        ],
    )]
    for column, referenced_table in [(owner_column, owner_table), *references]:
        operations += same_company_reference(table=table, column=column, referenced_table=referenced_table)
    return operations
