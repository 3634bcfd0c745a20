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


def test_unknown_address_reveals_nothing_and_sends_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    # One row, as for a known address, but discarded from the start, without the typed address:
    # the worker drops it.
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.DISCARDED and message.recipient == ""
    assert not outbox_deliver(message_id=message.pk)
    assert mailoutbox == []


def test_known_and_unknown_addresses_cost_the_same_work(client, superuser, django_assert_num_queries):
    """The reset answered a known address measurably more slowly (issue 6, item 6): now both run the
    same queries (look-up, one outbox row) and queue one message, rendered from the same templates."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reset(email):
        client.get(reverse("accounts:password_reset"))  # session and CSRF settled before counting
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("accounts:password_reset"), {"email": email})
        assert response["Location"] == reverse("accounts:password_reset_done")
        return [query["sql"].split(" ", 1)[0] for query in queries.captured_queries]

    known = reset(superuser.email)
    unknown = reset("nobody@example.com")
    assert known == unknown
    assert known.count("INSERT") == 1
    sent, discarded = OutboxMessage.objects.order_by("pk")
    assert sent.recipient == superuser.email and sent.status == OutboxMessage.Status.PENDING
    assert discarded.status == OutboxMessage.Status.DISCARDED
    assert len(discarded.body) > 200 and "/password-reset/" in discarded.body  # rendered too


def test_reset_mail_speaks_the_login_language_not_the_browser_one(client, superuser):
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})  # an English browser
    message = OutboxMessage.objects.get(recipient=superuser.email)
    assert message.subject == "Vælg en ny adgangskode til Selfcare"
    assert "Nogen har bedt om at nulstille adgangskoden" in message.body


def test_weak_new_password_is_refused_with_a_message(client, superuser):
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    response = client.get(reset_link(superuser), follow=True)
    response = client.post(response.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.check_password(PASSWORD)
