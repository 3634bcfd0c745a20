from celery import shared_task

from invoices.services import invoices_daily

# The billing run itself is a background job (invoices/jobs.py), run by ``selfcare.jobs.tasks.run_job``
# on the jobs queue.


@shared_task
def invoices_daily_task() -> dict:
    """Beat, daily: overdue invoices; on the 1st, the previous month's billing run."""
    return invoices_daily()
