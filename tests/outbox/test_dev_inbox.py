import pytest
from django.urls import reverse

from selfcare.outbox.models import Channel, DevInboxMessage

pytestmark = pytest.mark.django_db


def test_dev_inbox_is_404_unless_debug(client, settings):
    DevInboxMessage.objects.create(channel=Channel.SMS, recipient="+4520112233", body="Your code is 123456")
    settings.DEV_INBOX_ENABLED = False
    assert client.get(reverse("dev_inbox")).status_code == 404


def test_dev_inbox_shows_what_the_local_sinks_received(client, settings):
    DevInboxMessage.objects.create(channel=Channel.SMS, recipient="+4520112233", body="Your code is 123456")
    settings.DEV_INBOX_ENABLED = True
    page = client.get(reverse("dev_inbox")).content.decode()
    assert "+4520112233" in page and "Your code is 123456" in page
