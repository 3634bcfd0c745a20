"""Every reference of a case, fault report, message or attachment stays within one company (accounts.tenancy)."""

from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


def _references(table, columns):
    return [operation for column, referenced in columns
            for operation in same_company_reference(table=table, column=column, referenced_table=referenced)]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_cases_fault_reports_notices"),
        ("subscriptions", "0008_merge_0007_create_requests_0007_list_filter_index"),
        # Gives subscriptions_connection its (id, company_id) key, which the references below need.
        ("orders", "0008_order_changes"),
    ]

    operations = [
        *tenant_key("tickets_supportcase"),
        *tenant_key("tickets_faultreport"),
        *tenant_key("tickets_casemessage"),
        *_references("tickets_supportcase", [
            ("subscription_id", "subscriptions_subscription"),
            ("connection_id", "subscriptions_connection"),
            ("account_id", "subscriptions_billingaccount"),
        ]),
        *_references("tickets_faultreport", [
            ("subscription_id", "subscriptions_subscription"),
            ("connection_id", "subscriptions_connection"),
            ("account_id", "subscriptions_billingaccount"),
        ]),
        *_references("tickets_supportcaseevent", [("subject_id", "tickets_supportcase")]),
        *_references("tickets_faultreportevent", [("subject_id", "tickets_faultreport")]),
        *_references("tickets_casemessage", [
            ("case_id", "tickets_supportcase"),
            ("fault_report_id", "tickets_faultreport"),
            ("account_id", "subscriptions_billingaccount"),
        ]),
        *_references("tickets_attachment", [
            ("case_id", "tickets_supportcase"),
            ("fault_report_id", "tickets_faultreport"),
            ("message_id", "tickets_casemessage"),
            ("account_id", "subscriptions_billingaccount"),
        ]),
    ]
