"""Every reference between an order's rows stays within one company (accounts.tenancy)."""

from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_products_orders_chains"), ("subscriptions", "0006_event_actions")]

    operations = [
        *tenant_key("orders_order"),
        *tenant_key("orders_approvalchain"),
        *same_company_reference(table="orders_order", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="orders_order", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="orders_orderevent", column="subject_id", referenced_table="orders_order"),
        *same_company_reference(table="orders_orderapproval", column="order_id", referenced_table="orders_order"),
        *same_company_reference(table="orders_approvalchainmember", column="chain_id",
                                referenced_table="orders_approvalchain"),
    ]
