from celery import shared_task
from django.conf import settings

from invoices.services import billing_run_execute, invoices_daily


@shared_task(queue=settings.CELERY_JOBS_QUEUE)
def billing_run_task(run_id: int) -> bool:
    """A billing run, on the jobs queue (minutes of work must not hold the slot of an SMS code)."""
    return billing_run_execute(run_id=run_id)


@shared_task
def invoices_daily_task() -> dict:
    """Beat, daily: overdue invoices; on the 1st, the previous month's billing run."""
    return invoices_daily()
