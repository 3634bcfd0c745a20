"""A big workbook is checked and applied in a background job (a real Celery worker), with progress."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from groups import uploads
from groups.models import GroupMembership, GroupUpload
from selfcare.jobs.models import Job
from tests.conftest import make_member, verified_client, wait_for
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.groups.conftest import make_category, make_group
from tests.groups.test_uploads import workbook


def test_a_big_workbook_is_checked_and_applied_in_a_job(transactional_db, celery_worker, company, monkeypatch):
    monkeypatch.setattr(uploads, "SYNC_MAX_BYTES", 1_000)  # every workbook is "big"
    manager = make_member(company)
    make_group(make_category(company), "2010")
    account = BillingAccountFactory(company=company)
    lines = [SubscriptionFactory(account=account, number=f"+45 3100{index:04d}") for index in range(300)]
    month = f"{date.today():%Y-%m}"
    content = workbook([["", line.number, "", "Cost centre", "2010", month, ""] for line in lines])
    client = verified_client(manager.user)
    response = client.post(reverse("groups:upload"), {"kind": "assignments",
                                                      "workbook": SimpleUploadedFile("big.xlsx", content)})
    job = Job.objects.get(kind=uploads.JOB_CHECK)
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert (job.status, job.total, job.processed) == (Job.Status.DONE, 300, 300)
    upload = GroupUpload.objects.get()
    assert (upload.status, upload.created, upload.refused) == (GroupUpload.Status.CHECKED, 300, 0)
    assert job.return_url == reverse("groups:upload_detail", args=[upload.pk])
    assert not GroupMembership.objects.exists()

    response = client.post(reverse("groups:upload_apply", args=[upload.pk]))
    apply_job = Job.objects.get(kind=uploads.JOB_APPLY)
    assert response["Location"] == reverse("jobs:detail", args=[apply_job.pk])
    wait_for(lambda: Job.objects.get(pk=apply_job.pk).is_finished)
    assert GroupUpload.objects.get().status == GroupUpload.Status.APPLIED
    assert GroupMembership.objects.count() == 300
    page = client.get(reverse("groups:upload_detail", args=[upload.pk])).content.decode()
    assert "Download the result" in page
