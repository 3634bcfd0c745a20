from celery import shared_task

from selfcare.outbox.services import DeliveryFailed, outbox_deliver, outbox_pending_ids


@shared_task(autoretry_for=(DeliveryFailed,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def deliver_outbox_message(message_id: int) -> bool:
    return outbox_deliver(message_id=message_id)


@shared_task
def outbox_sweep() -> int:
    ids = outbox_pending_ids()
    for message_id in ids:
        deliver_outbox_message.delay(message_id)
    return len(ids)
