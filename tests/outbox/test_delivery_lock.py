"""The outbox's row lock, proven with two workers on two connections at once: one message, one delivery."""

import pytest

from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from selfcare.outbox.tasks import deliver_outbox_message
from tests.concurrency import run_held_at


@pytest.mark.django_db(transaction=True)
def test_two_workers_with_one_message_deliver_it_once():
    message = OutboxMessage.objects.create(channel=Channel.SMS, recipient="+4520000001", body="Din kode er 123456")

    def worker():
        return deliver_outbox_message(message.pk)

    # Each worker is held right before it sends, inside its transaction (after the row lock).
    run = run_held_at("selfcare.outbox.services._send", worker, worker)

    assert sorted([run.first.value(), run.second.value()]) == [False, True]
    assert run.second_while_held in ("lock", "finished"), "both workers were about to send the same message"
    assert DevInboxMessage.objects.filter(recipient="+4520000001").count() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 1
