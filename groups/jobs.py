"""The groups app's background jobs (found by ``selfcare.jobs``): big workbooks are checked and applied here."""

from accounts.models import Membership
from groups import uploads
from groups.models import GroupUpload
from selfcare.jobs.registry import job_runner


def _upload_and_membership(job):
    membership = Membership.objects.select_related("company", "user").get(pk=job.params["membership_id"],
                                                                          company_id=job.company_id)
    upload = GroupUpload.objects.get(pk=job.params["upload_id"], company_id=job.company_id)
    return membership, upload


@job_runner(uploads.JOB_CHECK)
def upload_check(job, progress):
    membership, upload = _upload_and_membership(job)
    uploads.check(membership=membership, upload=upload, progress=progress)


@job_runner(uploads.JOB_APPLY)
def upload_apply(job, progress):
    membership, upload = _upload_and_membership(job)
    uploads.apply(membership=membership, upload=upload, progress=progress)
