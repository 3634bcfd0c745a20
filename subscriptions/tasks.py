from celery import shared_task

from subscriptions.provisioning import ProvisioningUnavailable
from subscriptions.services import (
    change_request_complete,
    change_request_submit,
    change_requests_complete_many,
    change_requests_submit_many,
    change_requests_apply_due,
    change_requests_pending_ids,
)


@shared_task(autoretry_for=(ProvisioningUnavailable,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def provisioning_submit(change_id: int) -> bool:
    return change_request_submit(change_id=change_id)


@shared_task(autoretry_for=(ProvisioningUnavailable,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def provisioning_submit_many(change_ids: list[int]) -> int:
    """A bulk action's chunk of new changes, handed to the port in one batch."""
    return change_requests_submit_many(change_ids=change_ids)


@shared_task
def simulator_complete_many(answers: list) -> int:
    """The local simulator's answers for a batch, a few seconds after it was handed over."""
    return change_requests_complete_many(answers=[(change_id, ok) for change_id, ok in answers])


@shared_task
def simulator_complete(change_id: int, ok: bool) -> bool:
    """The local simulator's answer, a few seconds after a change was handed to it."""
    return change_request_complete(change_id=change_id, ok=ok)


@shared_task
def provisioning_sweep() -> int:
    """Re-queues pending changes whose task was lost (broker restart, crash between commit and publish)."""
    ids = change_requests_pending_ids()
    for change_id in ids:
        provisioning_submit.delay(change_id)
    return len(ids)


@shared_task
def change_requests_due() -> int:
    return change_requests_apply_due()
