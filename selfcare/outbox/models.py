from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    DIGITAL_MAIL = "digital_mail", _("Digital mailbox")
    EINVOICE = "einvoice", _("E-invoice")


class OutboxMessage(models.Model):
    """Something to send, written in the same transaction as the change that causes it.

    A Celery task delivers it afterwards (``outbox_deliver``); a crash or a lost task leaves the row
    pending, and the beat sweep queues it again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Written only to do the same work as a real message; the worker drops it.
        DISCARDED = "discarded", _("Discarded")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    # Files sent with the message, read from storage when it is sent (so a large PDF is not copied
    # into the row): [{"storage": "private", "name": ..., "filename": ..., "content_type": ...}].
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="outbox_pending_idx"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient}"


class DevInboxMessage(models.Model):
    """What the local SMS, e-mail and digital-mailbox sinks received; shown on the developer inbox page."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("developer inbox message")
        verbose_name_plural = _("developer inbox messages")

    def __str__(self):
        return f"{self.channel} → {self.recipient}"
