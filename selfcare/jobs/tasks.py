from celery import shared_task

from selfcare.jobs.services import job_run, job_sweep_interrupted


@shared_task
def run_job(job_id: int) -> bool:
    return job_run(job_id=job_id)


@shared_task
def jobs_sweep_interrupted() -> int:
    return job_sweep_interrupted()
