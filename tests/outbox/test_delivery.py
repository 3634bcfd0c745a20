import time
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction

from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from selfcare.outbox.services import (
    MAX_ATTEMPTS,
    DeliveryFailed,
    outbox_deliver,
    outbox_enqueue_email,
    outbox_enqueue_sms,
    outbox_pending_ids,
)
from tests.conftest import wait_for


@pytest.mark.django_db
def test_delivery_sends_once_however_often_it_runs():
    message = outbox_enqueue_email(to="anna@example.com", subject="Hej", body="Body")
    assert outbox_deliver(message_id=message.pk) is True
    assert outbox_deliver(message_id=message.pk) is False
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 1 and message.sent_at


@pytest.mark.django_db
def test_failure_is_recorded_and_retried_then_given_up():
    message = outbox_enqueue_sms(to="+4520112233", body="code")
    with mock.patch("selfcare.outbox.channels.LocalSMSBackend.send", side_effect=OSError("gateway down")):
        for _attempt in range(MAX_ATTEMPTS - 1):
            with pytest.raises(DeliveryFailed):
                outbox_deliver(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.PENDING
        assert "gateway down" in message.last_error
        assert outbox_deliver(message_id=message.pk) is False  # the last attempt gives up
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == MAX_ATTEMPTS
    assert not DevInboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue_sms(to="+4520112233", body="never")
            raise RuntimeError
    assert callbacks == [] and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_sweep_finds_only_old_pending_messages():
    from datetime import timedelta

    from django.utils import timezone

    old = outbox_enqueue_sms(to="+4520112233", body="old")
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    outbox_enqueue_sms(to="+4520112233", body="new")
    assert outbox_pending_ids() == [old.pk]


def test_a_real_worker_delivers_committed_messages_exactly_once(celery_worker):
    """Through Redis and a Celery worker: the SMS lands in the SMS port's store once."""
    from selfcare.outbox.tasks import deliver_outbox_message, outbox_sweep

    with transaction.atomic():
        message = outbox_enqueue_sms(to="+4520112233", body="Your code is 123456")
    wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.SENT)
    # The same task again, and the sweep, change nothing.
    deliver_outbox_message.delay(message.pk)
    outbox_sweep.delay()
    time.sleep(1.0)  # nothing to observe when nothing happens: give the worker time to (not) act
    assert DevInboxMessage.objects.filter(channel=Channel.SMS, body="Your code is 123456").count() == 1


def test_e_mail_reaches_a_real_smtp_server_through_the_worker(celery_worker, smtp_server):
    from selfcare.outbox.services import outbox_enqueue_email

    with transaction.atomic():
        message = outbox_enqueue_email(to="anna@example.com", subject="Velkommen", body="Hej Anna, æøå")
    wait_for(lambda: smtp_server.to("anna@example.com"))
    received = smtp_server.to("anna@example.com")
    assert len(received) == 1
    assert received[0]["Subject"] == "Velkommen" and "Hej Anna, æøå" in smtp_server.body(received[0])
    # Marked sent once the worker's transaction commits, a moment after the SMTP server has the message.
    wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.SENT)
