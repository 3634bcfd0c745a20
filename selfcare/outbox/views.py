from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from selfcare.outbox.models import DevInboxMessage


def dev_inbox(request):
    """What the local sinks received (SMS codes, e-mails, digital-mailbox letters). DEBUG only."""
    if not settings.DEV_INBOX_ENABLED:
        raise Http404
    messages = DevInboxMessage.objects.all()[:100]
    return render(request, "outbox/dev_inbox.html", {"inbox_messages": messages})
