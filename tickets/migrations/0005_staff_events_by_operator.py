"""Timeline events staff made before events said so (data.by_operator) read "the operator" too: staff are
never named to customers (selfcare.workflow.TimelineEvent.by_label)."""

from django.db import migrations

MODELS = ["SupportCaseEvent", "FaultReportEvent"]


def mark_staff_events(apps, schema_editor):
    for name in MODELS:
        table = apps.get_model("tickets", name)._meta.db_table
        schema_editor.execute(
            f"UPDATE {table} SET data = data || '{{\"by_operator\": true}}'::jsonb "
            "WHERE actor_id IN (SELECT id FROM accounts_user WHERE is_staff) AND NOT (data ? 'by_operator')")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_resolved_cases_index"), ("accounts", "0020_audit_actions_after_merge")]

    operations = [migrations.RunPython(mark_staff_events, migrations.RunPython.noop)]
