"""An upload's job is of the upload's company, as the database sees it too (accounts.tenancy).

The jobs table gets its (id, company_id) key here if no other migration gave it one yet."""

from django.db import migrations

from accounts.tenancy import _constraint_name, same_company_reference

JOB_KEY = _constraint_name("jobs_job", "id", "company", "key")


class Migration(migrations.Migration):

    dependencies = [
        ("groups", "0003_group_filter_covering_indexes"),
        ("jobs", "0002_translated_labels"),
    ]

    operations = [
        migrations.RunSQL(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{JOB_KEY}') THEN
                    ALTER TABLE "jobs_job" ADD CONSTRAINT "{JOB_KEY}" UNIQUE ("id", "company_id");
                END IF;
            END $$""",
            migrations.RunSQL.noop,
        ),
        *same_company_reference(table="groups_groupupload", column="job_id", referenced_table="jobs_job"),
    ]
