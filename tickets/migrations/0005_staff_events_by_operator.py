"""Timeline events staff made before events said so (data.by_operator) read "the operator" too: staff are
never named to customers (selfcare.workflow.TimelineEvent.by_label)."""

from django.db import migrations

from selfcare.workflow import flag_staff_events

MODELS = ["SupportCaseEvent", "FaultReportEvent"]


def mark_staff_events(apps, schema_editor):
    flag_staff_events(schema_editor, [apps.get_model("tickets", name)._meta.db_table for name in MODELS])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_resolved_cases_index"), ("accounts", "0020_audit_actions_after_merge")]

    operations = [migrations.RunPython(mark_staff_events, migrations.RunPython.noop)]
