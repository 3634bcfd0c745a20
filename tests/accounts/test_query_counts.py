"""No page's query count grows with the data (DESIGN.md, "Scale").

Each page is requested for a company with a handful of subscriptions and for one with hundreds
(spread over several accounts, so a per-row lookup of the account would show), by a login with all
account numbers and by one restricted to some of them. The number of queries must be the same.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 300
ACCOUNTS = 3
PAGE_SIZE = 50


def company_with(subscriptions: int):
    """A company with ``subscriptions`` subscriptions over ACCOUNTS accounts, of every type and status."""
    company = CompanyFactory()
    accounts = BillingAccountFactory.create_batch(ACCOUNTS, company=company)
    types, statuses = Subscription.Type.values, Subscription.Status.values
    Subscription.objects.bulk_create(
        SubscriptionFactory.build(
            company=company, account=accounts[index % ACCOUNTS], type=types[index % len(types)],
            status=statuses[index % len(statuses)],
        )
        for index in range(subscriptions)
    )
    return company, accounts


def signed_in(subscriptions: int, restricted: bool):
    """A verified client of a new company's login, and the subscriptions that login may see."""
    company, accounts = company_with(subscriptions)
    scope = accounts[:2] if restricted else None
    membership = make_member(company, Role.SUPERUSER, accounts=scope)
    return verified_client(membership.user), Subscription.objects.for_membership(membership)


def captured(client, url, **extra):
    client.get(url, **extra)  # the first request settles the session (active company): not what we count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response, [query["sql"] for query in queries.captured_queries]


def detail_links(response) -> int:
    import re

    return len(re.findall(r'href="/subscriptions/\d+/"', response.content.decode()))


def paging_link(response, rel: str) -> str:
    """The list's own link to another page (keyset paging: a signed cursor, not a page number)."""
    import html
    import re

    match = re.search(rf'<a href="([^"]+)"[^>]*>{rel}</a>', response.content.decode())
    assert match, f"no {rel} link"
    return html.unescape(match.group(1))


PAGES = [
    pytest.param("overview", {}, id="overview"),
    pytest.param("subscriptions:list", {}, id="subscription-list"),
    pytest.param("subscriptions:list", {"HTTP_HX_REQUEST": "true"}, id="subscription-list-htmx"),
]


@pytest.mark.parametrize("restricted", [False, True], ids=["all-accounts", "restricted"])
@pytest.mark.parametrize(("url_name", "extra"), PAGES)
def test_query_count_does_not_grow_with_subscriptions(url_name, extra, restricted):
    url = reverse(url_name)
    results = {}
    for size in (SMALL, LARGE):
        client, visible = signed_in(size, restricted)
        response, queries = captured(client, url, **extra)
        results[size] = (response, queries, visible)

    small_queries, large_queries = results[SMALL][1], results[LARGE][1]
    assert len(large_queries) == len(small_queries), (
        f"{url}: {len(small_queries)} queries for {SMALL} subscriptions, {len(large_queries)} for {LARGE}:\n"
        + "\n".join(large_queries)
    )

    # The comparison is only worth something if the pages really show the rows they should.
    for size, (response, _queries, visible) in results.items():
        if url_name == "subscriptions:list":
            assert detail_links(response) == min(visible.count(), PAGE_SIZE)
        else:
            active = visible.filter(status=Subscription.Status.ACTIVE).count()
            assert f"<strong>{active}</strong>".encode() in response.content
    assert results[LARGE][2].count() > PAGE_SIZE


@pytest.mark.parametrize("restricted", [False, True], ids=["all-accounts", "restricted"])
def test_subscription_list_later_pages_and_search_match_the_first(restricted):
    """The next page, the last page and a search cost what page 1 costs (keyset paging counts once, rows
    come with their account and plan)."""
    client, _visible = signed_in(LARGE, restricted)
    url = reverse("subscriptions:list")
    first_page, first = captured(client, url)
    response, second = captured(client, paging_link(first_page, "Next"))
    assert detail_links(response) == PAGE_SIZE
    assert len(second) == len(first)
    response, last = captured(client, paging_link(first_page, "Last"))
    assert detail_links(response) >= 1 and len(last) == len(first)
    _response, searched = captured(client, f"{url}?q=a")
    assert len(searched) == len(first)
