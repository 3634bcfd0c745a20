"""A row of a company that points at another company-owned row points at one of its own company: the
database refuses anything else (accounts.tenancy; tests/test_same_company_constraints.py)."""

from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0003_translated_labels")]

    operations = [
        *tenant_key("subscriptions_billingaccount"),
        *tenant_key("subscriptions_subscription"),
        *tenant_key("subscriptions_changerequest"),
        *same_company_reference(table="subscriptions_subscription", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="subscriptions_connection", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="subscriptions_simcard", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_usagerecord", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_changerequest", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_subscriptionevent", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_subscriptionevent", column="change_request_id",
                                referenced_table="subscriptions_changerequest"),
    ]
