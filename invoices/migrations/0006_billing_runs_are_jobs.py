"""Billing runs become operator jobs (selfcare.jobs, kind "invoices.billing_run"): each BillingRun row
is copied to a Job with the same month, status, progress and times, then the model goes."""

from django.db import migrations

STATUSES = {"queued", "running", "done", "failed"}


def runs_to_jobs(apps, schema_editor):
    BillingRun = apps.get_model("invoices", "BillingRun")
    Job = apps.get_model("jobs", "Job")
    for run in BillingRun.objects.order_by("created_at"):
        job = Job.objects.create(
            operator=True, company=None, created_by_id=run.started_by_id, kind="invoices.billing_run",
            key=run.period.isoformat(), title=f"Billing run {run.period:%Y-%m}",
            params={"period": run.period.isoformat()}, status=run.status if run.status in STATUSES else "failed",
            total=run.accounts_total, processed=run.accounts_done,
            failure="error" if run.status == "failed" else "", started_at=run.started_at,
            finished_at=run.finished_at, heartbeat_at=run.finished_at or run.started_at,
        )
        Job.objects.filter(pk=job.pk).update(created_at=run.created_at)  # auto_now_add on create


def jobs_to_runs(apps, schema_editor):
    BillingRun = apps.get_model("invoices", "BillingRun")
    Job = apps.get_model("jobs", "Job")
    from datetime import date

    for job in Job.objects.filter(kind="invoices.billing_run", operator=True).order_by("created_at"):
        BillingRun.objects.create(
            period=date.fromisoformat(job.params["period"]), status=job.status, accounts_total=job.total,
            accounts_done=job.processed, started_by_id=job.created_by_id, started_at=job.started_at,
            finished_at=job.finished_at)
    Job.objects.filter(kind="invoices.billing_run", operator=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("invoices", "0005_documents_and_email_subscriptions"),
        ("jobs", "0003_operator_jobs"),
    ]

    operations = [
        migrations.RunPython(runs_to_jobs, jobs_to_runs),
        migrations.DeleteModel(name="BillingRun"),
    ]
