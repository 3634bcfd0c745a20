"""The benchmarked subscription pages (``make bench``, issue 9) cost the same number of queries at two
data sizes: 30 and 300 lines in one company, over several accounts and plans. Speed itself is measured
by ``manage.py bench``, not here; what a test can prove exactly is that nothing is fetched per row."""

import re

import pytest
from django.db import connection
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from selfcare.widgets import PlainSelect
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 30, 300
PAGE_SIZE = 50
NAMES = ["Hansen", "Larsen", "Holm", "Berg", "Dahl"]


def company_with(lines: int):
    company = CompanyFactory()
    accounts = BillingAccountFactory.create_batch(4, company=company)
    plans = [PricePlanFactory() for _ in range(3)]
    types, statuses = Subscription.Type.values, Subscription.Status.values
    Subscription.objects.bulk_create(
        Subscription(
            company=company, account=accounts[index % len(accounts)], type=types[index % len(types)],
            status=statuses[index % len(statuses)], plan=plans[index % len(plans)],
            number=f"+45 2{index:07d}", employee_name=f"Emma {NAMES[index % len(NAMES)]} {index}",
            employee_email=f"emma.{index}@example.com",
        )
        for index in range(lines)
    )
    membership = make_member(company, Role.SUPERUSER)
    first = Subscription.objects.filter(company=company).order_by("employee_name", "number", "pk").first()
    return verified_client(membership.user), plans[0], first


def pages(plan, first):
    url = reverse("subscriptions:list")
    return {
        "list default": (url, {}),
        "3-letter name fragment": (f"{url}?q=ans", {}),
        "number fragment": (f"{url}?q=0012", {}),
        "no match": (f"{url}?q=zzqqxx", {}),
        "sort by e-mail": (f"{url}?sort=email", {}),
        "plan and status filter": (f"{url}?plan={plan.pk}&status=active", {}),
        "last page": (f"{url}?last=1", {}),
        "htmx fragment": (f"{url}?q=ans", {"HTTP_HX_REQUEST": "true"}),
        "employee page": (reverse("subscriptions:detail", args=[first.pk]), {}),
    }


def queries_of(client, url, extra):
    client.get(url, **extra)  # the first request settles the session (active company)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, url
    return response, [query["sql"] for query in queries.captured_queries]


def rows_shown(response) -> int:
    return len(re.findall(r'href="/subscriptions/\d+/"', response.content.decode()))


def test_benchmarked_pages_cost_the_same_queries_at_two_sizes():
    measured = {}
    for size in (SMALL, LARGE):
        client, plan, first = company_with(size)
        measured[size] = {name: queries_of(client, url, extra) for name, (url, extra) in pages(plan, first).items()}

    for name in measured[SMALL]:
        small, large = measured[SMALL][name][1], measured[LARGE][name][1]
        assert len(small) == len(large), (
            f"{name}: {len(small)} queries for {SMALL} lines, {len(large)} for {LARGE}:\n" + "\n".join(large))

    # Worth something only if the pages show rows, and a full page of them at the large size.
    large = {name: response for name, (response, _queries) in measured[LARGE].items()}
    assert rows_shown(large["list default"]) == PAGE_SIZE
    assert rows_shown(large["3-letter name fragment"]) == PAGE_SIZE  # every fifth name is Hansen
    assert rows_shown(large["sort by e-mail"]) == PAGE_SIZE
    assert 1 <= rows_shown(large["number fragment"]) < PAGE_SIZE
    assert rows_shown(large["no match"]) == 0
    assert 1 <= rows_shown(large["plan and status filter"]) <= PAGE_SIZE
    assert 1 <= rows_shown(large["last page"]) <= PAGE_SIZE
    assert b'id="list-results"' in large["htmx fragment"].content and b"<html" not in large["htmx fragment"].content
    assert b"Emma" in large["employee page"].content


def test_plain_select_writes_the_html_of_django_select():
    """The filters' <select> is the markup Django's template widget writes, without the template."""
    from django import forms

    html = SimpleTestCase()
    choices = [("", "All"), ("a", "A & <b>"), ("Group", [("1", "one"), ("2", "two")]), (3, "three")]
    for value in ("a", "", None, "2", 3):
        attrs = {"id": "id_plan", "class": "field", "required": True, "disabled": False}
        html.assertHTMLEqual(PlainSelect(choices=choices).render("plan", value, attrs),
                             forms.Select(choices=choices).render("plan", value, attrs))
