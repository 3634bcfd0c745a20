"""The list machinery writes its table already labelled for the phone's cards; it must be exactly what
``{% responsive_table %}`` (accounts/templatetags/portal_table.py) makes of the same plain table."""

import re

import pytest
from django.urls import reverse

from accounts.templatetags.portal_table import _TableLabeller
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

# What the labeller adds to a plain table, so it can be taken away again.
ADDED = [
    (r' role="(table|rowgroup|row|columnheader|rowheader|cell)"', ""),
    (r' data-(sort-)?label="[^"]*"', ""),
    (r" table--cards", ""),
    (r'<div class="table__value">', ""),
    (r"</div></td>", "</td>"),
]


def table_of(html: str) -> str:
    match = re.search(r'<div class="table-wrap">(<table.*?</table>)</div>', html, re.S)
    assert match, "no list table on the page"
    return match.group(1)


def plain(table: str) -> str:
    for pattern, replacement in ADDED:
        table = re.sub(pattern, replacement, table)
    return table


@pytest.fixture
def member(db):
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    for name in ("Alma Berg", "Bo Dahl", "Cia Ek"):
        SubscriptionFactory(account=account, employee_name=name)
    return make_member(company)


@pytest.mark.parametrize("route", ["subscriptions:list", "subscriptions:accounts", "accounts:users",
                                   "accounts:audit_log"])
def test_the_list_table_is_what_the_responsive_table_makes_of_it(member, route):
    client = verified_client(member.user)
    written = table_of(client.get(reverse(route), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert 'data-label="' in written or 'class="empty"' in written
    assert _TableLabeller(plain(written)).labelled() == written


def test_an_empty_list_too(member):
    client = verified_client(member.user)
    written = table_of(client.get(reverse("subscriptions:list"), {"q": "zzqqxx"}).content.decode())
    assert 'class="empty"' in written
    assert _TableLabeller(plain(written)).labelled() == written
