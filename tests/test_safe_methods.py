"""No state change on GET: visiting any page as a signed-in Superuser writes nothing but the session."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import verified_client
from tests.factories import StaffUserFactory, SubscriptionFactory

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
# The session (its expiry moves on every request: the idle time-out) is the only thing a GET may write.
ALLOWED_TABLES = ('"django_session"',)


def _routes(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _url(name, subscription):
    """Routes without arguments, and customer-side detail pages with a real row."""
    if name.startswith("admin:"):
        return reverse(name) if not _needs_arguments(name) else None
    if _needs_arguments(name):
        return reverse(name, kwargs={"pk": subscription.pk}) if name == "subscriptions:detail" else None
    return reverse(name)


def _needs_arguments(name):
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


@pytest.mark.django_db
def test_get_writes_nothing_but_the_session(superuser, company):
    subscription = SubscriptionFactory(company=company)
    staff = StaffUserFactory()
    visited = 0
    for name, _pattern in _routes(get_resolver().url_patterns):
        url = _url(name, subscription)
        if url is None:
            continue
        client = verified_client(staff if name.startswith("admin:") else superuser)
        client.get("/overview/" if not name.startswith("admin:") else "/backoffice/")  # settle the session
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        writes = [q["sql"] for q in queries if WRITE.match(q["sql"]) and not any(t in q["sql"] for t in ALLOWED_TABLES)]
        assert not writes, f"GET {url} wrote: {writes}"
        visited += 1
    assert visited > 20
