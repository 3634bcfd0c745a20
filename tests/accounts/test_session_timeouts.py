"""The absolute and idle session time-outs, on a session made by the real sign-in (password, then the
code from the SMS), with the clock moved forward: nothing in the session is written by hand."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import PASSWORD, english_client

pytestmark = pytest.mark.django_db


class Clock:
    """time.time() and django.utils.timezone.now(), moved forward together."""

    def __init__(self):
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock():
    real_time, real_now = time.time, timezone.now
    moved = Clock()
    with mock.patch("time.time", lambda: real_time() + moved.offset), \
            mock.patch("django.utils.timezone.now", lambda: real_now() + timedelta(seconds=moved.offset)):
        yield moved


def sign_in(user):
    """The real way in: the sign-in form, then the code the SMS brought."""
    client = english_client()
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD,
                                                       "next": "/overview/"})
    assert response["Location"].startswith(reverse("accounts:verify"))
    sms = OutboxMessage.objects.filter(channel=Channel.SMS, recipient=user.mobile).latest("pk")
    code = re.search(r"\b(\d{6,8})\b", sms.body).group(1)
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": code, "next": "/overview/"})
    assert response["Location"] == "/overview/"
    assert client.get("/overview/").status_code == 200
    return client


def _cache_key(client):
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    return KEY_PREFIX + client.cookies[settings.SESSION_COOKIE_NAME].value


def test_absolute_time_out_ends_even_a_busy_session(clock, superuser):
    client = sign_in(superuser)
    busy = settings.SESSION_COOKIE_AGE // 2  # a request every quarter of an hour: never idle
    elapsed = 0
    while elapsed + busy < settings.SESSION_ABSOLUTE_SECONDS:
        clock.advance(busy)
        elapsed += busy
        assert client.get("/overview/").status_code == 200, f"signed out after {elapsed} s"
    clock.advance(settings.SESSION_ABSOLUTE_SECONDS - elapsed + 1)
    response = client.get("/overview/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert "Your session has ended" in client.get(response["Location"]).content.decode()


def test_idle_time_out_ends_a_quiet_session(clock, superuser):
    """The session store forgets a session left alone for longer than the idle time-out. The cache in
    front of the database keeps a session exactly that long (its TTL, checked here); the request after
    it ran out is answered from the database copy, whose expiry the clock decides."""
    client = sign_in(superuser)
    cache = caches[settings.SESSION_CACHE_ALIAS]
    redis = cache._cache.get_client(write=False)

    def ttl():
        return redis.ttl(cache.make_and_validate_key(_cache_key(client)))

    for _quiet_spell in range(3):  # each request moves the idle time-out on
        clock.advance(settings.SESSION_COOKIE_AGE - 60)
        cache.delete(_cache_key(client))  # the cache alone would answer for real time, not the moved clock
        assert client.get("/overview/").status_code == 200
        assert 0 < ttl() <= settings.SESSION_COOKIE_AGE

    clock.advance(settings.SESSION_COOKIE_AGE + 1)
    cache.delete(_cache_key(client))
    response = client.get("/overview/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
