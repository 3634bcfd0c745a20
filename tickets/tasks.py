from celery import shared_task

from tickets.services import cases_close_resolved


@shared_task
def resolved_cases_close() -> int:
    """Hourly: resolved cases past the reopening limit are closed (and any missed while stopped)."""
    return cases_close_resolved()
