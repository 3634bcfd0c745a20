"""A subscription's account belongs to the subscription's company: the database refuses anything else."""

from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [
        *tenant_key("subscriptions_billingaccount"),
        *same_company_reference(table="subscriptions_subscription", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
    ]
