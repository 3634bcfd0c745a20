"""The e-invoice port: how a UBL document reaches the buyer's Peppol access point.

A backend has one method, ``send(*, to, subject, filename, content, reference)``: ``to`` is the buyer's
endpoint (GLN, scheme 0088), ``content`` the UBL bytes, ``reference`` the same for every attempt at one
message (an access point that deduplicates on it receives the document once). It raises
``EInvoiceUnavailable`` when the access point cannot take it now; the outbox retries with back-off.
Documents go through the outbox (``selfcare.outbox``, channel ``einvoice``), written in the transaction
that made the document ready. The backend is chosen by ``settings.EINVOICE_BACKEND``.

``LocalEInvoiceBackend`` (``make run``, the tests) stores what it is given: the developer inbox shows
it in DEBUG, and the stored file is the one the access point would have received.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from selfcare.outbox.models import Channel, DevInboxMessage


class EInvoiceUnavailable(Exception):
    """The access point could not take the document now; the outbox tries again later."""


class EInvoiceBackend:
    def send(self, *, to: str, subject: str, filename: str, content: bytes, reference: str) -> None:
        raise NotImplementedError  # pragma: no cover - the interface


class LocalEInvoiceBackend(EInvoiceBackend):
    directory = "einvoice-sent"

    def send(self, *, to, subject, filename, content, reference):
        storage = storages["private"]
        name = storage.save(f"{self.directory}/{to}/{filename}", ContentFile(content))
        DevInboxMessage.objects.create(channel=Channel.EINVOICE, recipient=to, subject=subject,
                                       body=f"{name} ({len(content)} bytes, {reference})")
