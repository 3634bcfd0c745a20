"""The account numbers chosen for a membership, or offered in an invitation to a company, belong to that
company: the database refuses others (accounts.tenancy; tests/test_same_company_constraints.py)."""

from django.db import migrations

from accounts.tenancy import same_company_link, tenant_key


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_merge_20261202_0313"),
        ("subscriptions", "0004_same_company_references"),
    ]

    operations = [
        *tenant_key("accounts_membership"),
        *same_company_link(
            table="accounts_membership_accounts", owner_column="membership_id", owner_table="accounts_membership",
            references=[("billingaccount_id", "subscriptions_billingaccount")],
        ),
        *tenant_key("accounts_membershipinvitation"),
        *same_company_link(
            table="accounts_membershipinvitation_accounts", owner_column="membershipinvitation_id",
            owner_table="accounts_membershipinvitation",
            references=[("billingaccount_id", "subscriptions_billingaccount")],
        ),
    ]
