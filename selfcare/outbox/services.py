import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from selfcare.outbox.models import Channel, OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def _enqueue(**fields) -> OutboxMessage:
    from selfcare.outbox.tasks import deliver_outbox_message

    message = OutboxMessage.objects.create(**fields)
    # Published only once the surrounding transaction commits: a rolled-back change sends nothing.
    transaction.on_commit(lambda: deliver_outbox_message.delay(message.pk))
    return message


def outbox_enqueue_email(*, to: str, subject: str, body: str, discarded: bool = False) -> OutboxMessage:
    """``discarded``: the same work as a real e-mail (row, task), but the worker drops it unsent, and the
    recipient is not stored: for answers that must not reveal whether an address is known."""
    if discarded:
        return _enqueue(channel=Channel.EMAIL, recipient="", subject=str(subject), body=str(body),
                        status=OutboxMessage.Status.DISCARDED)
    return _enqueue(channel=Channel.EMAIL, recipient=to, subject=str(subject), body=str(body))


def outbox_enqueue_sms(*, to: str, body: str) -> OutboxMessage:
    return _enqueue(channel=Channel.SMS, recipient=to, body=str(body))


def outbox_enqueue_digital_mail(*, to: str, subject: str, body: str) -> OutboxMessage:
    return _enqueue(channel=Channel.DIGITAL_MAIL, recipient=to, subject=str(subject), body=str(body))


def _send(message: OutboxMessage) -> None:
    if message.channel == Channel.EMAIL:
        EmailMessage(subject=message.subject, body=message.body, to=[message.recipient]).send()
    elif message.channel == Channel.SMS:
        import_string(settings.SMS_BACKEND)().send(to=message.recipient, body=message.body)
    elif message.channel == Channel.DIGITAL_MAIL:
        import_string(settings.DIGITAL_MAIL_BACKEND)().send(
            to=message.recipient, subject=message.subject, body=message.body
        )
    else:  # pragma: no cover - the choices are closed
        raise ValueError(message.channel)


class DeliveryFailed(Exception):
    """The port refused or failed; the task retries with back-off."""


def outbox_deliver(*, message_id: int) -> bool:
    """Send one pending message. Returns True if this call sent it.

    The row stays locked while it is sent, so a second worker holding the same id skips it, and it is
    marked sent in the same transaction: delivered once, however often the task runs.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return False
        message.attempts += 1
        try:
            _send(message)
        except Exception as error:  # noqa: BLE001 - any port failure is retried
            logger.warning("outbox message %s failed (attempt %s): %s", message.pk, message.attempts, error)
            message.last_error = repr(error)[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            failed = message.status == OutboxMessage.Status.PENDING
        else:
            message.status = OutboxMessage.Status.SENT
            message.sent_at = timezone.now()
            message.save(update_fields=["attempts", "status", "sent_at"])
            return True
    if failed:
        raise DeliveryFailed(f"outbox message {message_id}")
    return False


def outbox_pending_ids(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Pending messages whose task should have run by now (lost in a broker restart or a crash)."""
    cutoff = timezone.now() - older_than
    return list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
