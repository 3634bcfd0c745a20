"""Every reference between company-owned rows stays within one company (accounts.tenancy), and the two
gapless number series exist from the start (so the billing run only ever locks and advances a row)."""

from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


def create_series(apps, schema_editor):
    NumberSequence = apps.get_model("invoices", "NumberSequence")
    for name in ("invoice", "credit_note"):
        NumberSequence.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0001_invoices_lines_credit_notes_pools"),
        ("subscriptions", "0004_same_company_references"),
        ("orders", "0002_same_company_references"),
    ]

    operations = [
        *tenant_key("invoices_invoice"),
        *tenant_key("invoices_invoiceline"),
        *tenant_key("invoices_creditnote"),
        *tenant_key("invoices_usagepool"),
        *same_company_reference(table="invoices_invoice", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="invoices_invoiceline", column="invoice_id", referenced_table="invoices_invoice"),
        *same_company_reference(table="invoices_invoiceline", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="invoices_invoiceline", column="order_id", referenced_table="orders_order"),
        *same_company_reference(table="invoices_invoiceline", column="usage_pool_id",
                                referenced_table="invoices_usagepool"),
        *same_company_reference(table="invoices_creditnote", column="invoice_id", referenced_table="invoices_invoice"),
        *same_company_reference(table="invoices_creditnoteline", column="credit_note_id",
                                referenced_table="invoices_creditnote"),
        *same_company_reference(table="invoices_creditnoteline", column="invoice_line_id",
                                referenced_table="invoices_invoiceline"),
        *same_company_reference(table="invoices_usagepool", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="invoices_usagepoolmember", column="pool_id", referenced_table="invoices_usagepool"),
        *same_company_reference(table="invoices_usagepoolmember", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        migrations.RunPython(create_series, migrations.RunPython.noop),
    ]
