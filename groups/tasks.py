from celery import shared_task

from groups.services import group_months_apply


@shared_task
def group_months_due() -> int:
    """The monthly job: hourly, so the 1st is applied within the hour and a stopped beat catches up."""
    return len(group_months_apply())


@shared_task
def group_budgets_check() -> int:
    from groups.budgets import budget_alerts_check

    return len(budget_alerts_check())
