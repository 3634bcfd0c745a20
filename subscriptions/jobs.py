"""The subscriptions app's background jobs (found by ``selfcare.jobs``)."""

from selfcare.jobs.registry import job_runner
from subscriptions.bulk import JOB_KIND, bulk_change_run


@job_runner(JOB_KIND)
def bulk_change(job, progress):
    bulk_change_run(job, progress)
