import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from selfcare.outbox.models import Channel, OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def _publish(message_id: int) -> None:
    """Queue the delivery. The row is committed already, so a broker that is down (a Redis restart)
    must not fail the request that wrote it: the beat's sweep queues the row again later."""
    from selfcare.outbox.tasks import deliver_outbox_message

    try:
        deliver_outbox_message.delay(message_id)
    except Exception as error:  # noqa: BLE001 - kombu's OperationalError, a refused connection, a timeout
        logger.warning("outbox message %s not queued (%r): the sweep queues it again", message_id, error)


def _enqueue(**fields) -> OutboxMessage:
    message = OutboxMessage.objects.create(**fields)
    # Published only once the surrounding transaction commits: a rolled-back change sends nothing.
    transaction.on_commit(lambda: _publish(message.pk))
    return message


def attachment(*, name: str, filename: str, content_type: str, storage: str = "private") -> dict:
    """An attachment for ``outbox_enqueue_email``: a file in one of settings.STORAGES, read when sent."""
    return {"storage": storage, "name": name, "filename": filename, "content_type": content_type}


def outbox_enqueue_email(*, to: str, subject: str, body: str, discarded: bool = False,
                         attachments: list[dict] = ()) -> OutboxMessage:
    """``discarded``: the same work as a real e-mail (row, task), but the worker drops it unsent, and the
    recipient is not stored: for answers that must not reveal whether an address is known.
    ``attachments``: ``attachment(...)`` entries; the files must exist when the worker sends."""
    if discarded:
        return _enqueue(channel=Channel.EMAIL, recipient="", subject=str(subject), body=str(body),
                        status=OutboxMessage.Status.DISCARDED)
    return _enqueue(channel=Channel.EMAIL, recipient=to, subject=str(subject), body=str(body),
                    attachments=list(attachments))


def outbox_enqueue_einvoice(*, to: str, subject: str, document: dict) -> OutboxMessage:
    """A UBL document for the e-invoice port (``settings.EINVOICE_BACKEND``): ``to`` is the buyer's
    endpoint (EAN/GLN), ``document`` an ``attachment(...)`` entry."""
    return _enqueue(channel=Channel.EINVOICE, recipient=to, subject=str(subject), body="", attachments=[document])


def _read_attachment(entry: dict) -> bytes:
    from django.core.files.storage import storages

    with storages[entry["storage"]].open(entry["name"], "rb") as file:
        return file.read()


def outbox_enqueue_sms(*, to: str, body: str) -> OutboxMessage:
    return _enqueue(channel=Channel.SMS, recipient=to, body=str(body))


def outbox_enqueue_digital_mail(*, to: str, subject: str, body: str) -> OutboxMessage:
    return _enqueue(channel=Channel.DIGITAL_MAIL, recipient=to, subject=str(subject), body=str(body))


def message_id_header(message: OutboxMessage) -> str:
    """The e-mail's Message-ID: the same for every attempt at one outbox row, so a copy sent again
    (see ``outbox_deliver``) is recognisably the same message, and mail systems that deduplicate
    on it show it once."""
    host = urlsplit(settings.SITE_URL).hostname if settings.SITE_URL else None
    return f"<outbox.{message.pk}.{message.created_at:%Y%m%d%H%M%S}@{host or 'selfcare.invalid'}>"


def _send(message: OutboxMessage) -> None:
    if message.channel == Channel.EMAIL:
        email = EmailMessage(subject=message.subject, body=message.body, to=[message.recipient],
                             headers={"Message-ID": message_id_header(message)})
        for entry in message.attachments:
            email.attach(entry["filename"], _read_attachment(entry), entry["content_type"])
        email.send()
    elif message.channel == Channel.EINVOICE:
        entry = message.attachments[0]
        import_string(settings.EINVOICE_BACKEND)().send(
            to=message.recipient, subject=message.subject, filename=entry["filename"],
            content=_read_attachment(entry), reference=message_id_header(message),
        )
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

    A worker killed while it sends (before the mail server accepted the message) loses its
    connection, so PostgreSQL rolls the transaction back: the row is pending again, unlocked, and the
    task redelivered by the broker (acks_late) or queued again by the sweep sends it once
    (tests/outbox/test_failures.py). What remains is at least once, not exactly once: a worker killed
    in the instant after the mail server said "250 OK" and before the commit leaves the row pending,
    and it is sent again; that copy carries the same Message-ID (``message_id_header``). No
    protocol closes that window with SMTP, and losing a message instead would be worse.
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
