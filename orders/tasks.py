from celery import shared_task

from orders.services import absences_hand_over_due


@shared_task
def absences_due() -> int:
    """Absences that began today hand their waiting approval steps to the stand-in."""
    return absences_hand_over_due()
