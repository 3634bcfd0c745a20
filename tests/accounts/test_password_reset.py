import re

import pytest
from django.urls import reverse

from selfcare.outbox.models import OutboxMessage
from selfcare.outbox.services import outbox_deliver
from tests.conftest import english_client, PASSWORD

pytestmark = pytest.mark.django_db


def reset_link(user) -> str:
    message = OutboxMessage.objects.get(channel="email", recipient=user.email)
    return re.search(r"https?://[^/]+(/password-reset/[^\s]+/)", message.body).group(1)


def test_reset_link_goes_through_the_outbox_and_works_once(client, superuser, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    assert response["Location"] == reverse("accounts:password_reset_done")
    message = OutboxMessage.objects.get(channel="email")
    assert outbox_deliver(message_id=message.pk)
    assert mailoutbox[0].to == [superuser.email]

    link = reset_link(superuser)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    new_password = "a brand new passphrase 42"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    superuser.refresh_from_db()
    assert superuser.check_password(new_password)

    # The same link again: refused with a clear message.
    response = english_client().get(link, follow=True)
    assert "This link is not valid" in response.content.decode()


def test_reset_never_yields_a_session_that_skips_the_second_factor(client, superuser):
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    response = client.get(reset_link(superuser), follow=True)
    client.post(response.redirect_chain[-1][0], {"new_password1": "another long passphrase", "new_password2": "another long passphrase"})
    response = client.get("/overview/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_tampered_reset_link_is_refused(client, superuser):
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    link = reset_link(superuser)
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = client.get(tampered, follow=True)
    assert "This link is not valid" in response.content.decode()


def test_unknown_address_reveals_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert not OutboxMessage.objects.exists()


def test_weak_new_password_is_refused_with_a_message(client, superuser):
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    response = client.get(reset_link(superuser), follow=True)
    response = client.post(response.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.check_password(PASSWORD)
