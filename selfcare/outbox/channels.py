"""Ports for what leaves the system, with the local implementations `make run` uses.

A real SMS gateway or digital-mailbox adapter implements the same ``send`` and is chosen by settings
(``SMS_BACKEND``, ``DIGITAL_MAIL_BACKEND``); e-mail uses Django's own backend setting.
"""

from django.core.mail.backends.base import BaseEmailBackend

from selfcare.outbox.models import Channel, DevInboxMessage


class LocalSMSBackend:
    """Stores the SMS instead of sending it; the developer inbox page shows it while DEBUG is on."""

    def send(self, *, to: str, body: str) -> None:
        DevInboxMessage.objects.create(channel=Channel.SMS, recipient=to, body=body)


class LocalDigitalMailBackend:
    """Stores the letter instead of delivering it to e-Boks / Kivra."""

    def send(self, *, to: str, subject: str, body: str) -> None:
        DevInboxMessage.objects.create(channel=Channel.DIGITAL_MAIL, recipient=to, subject=subject, body=body)


class DevInboxEmailBackend(BaseEmailBackend):
    """`make run` without an SMTP host: e-mail lands in the developer inbox."""

    def send_messages(self, email_messages):
        for message in email_messages:
            DevInboxMessage.objects.create(
                channel=Channel.EMAIL, recipient=", ".join(message.to), subject=message.subject, body=message.body
            )
        return len(email_messages)
