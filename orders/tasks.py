from celery import shared_task

from orders.services import absences_hand_over_due, approval_reminders_send


@shared_task
def absences_due() -> int:
    """Absences that began today hand their waiting approval steps to the stand-in."""
    return absences_hand_over_due()


@shared_task
def approval_reminders() -> int:
    """Approval steps waiting more than 3 working days get their one reminder."""
    return approval_reminders_send()


@shared_task
def changes_follow_up() -> int:
    """Plan and add-on changes move on when the operator's systems have carried them out (or refused)."""
    from orders.changes import change_orders_follow_up

    return change_orders_follow_up()
