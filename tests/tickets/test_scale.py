"""The Support pages' query counts do not grow with the data: the same for a handful of cases as for the
benchmark's 20,000 (and 5,000 fault reports). Times are printed, not asserted."""

import random
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory
from tickets.bench import bench_tickets_seed
from tickets.models import FaultReport, SupportCase
from tickets.selectors import active_notices, open_cases

pytestmark = pytest.mark.django_db

PAGES = [("tickets:index", {}), ("tickets:index", {"q": "sag 1"}), ("tickets:index", {"sort": "-concerns"}),
         ("tickets:case_history", {"area": "data", "sort": "creator"}), ("tickets:faults", {}),
         ("tickets:fault_history", {"sort": "reference"})]


def _measure(client, company):
    counts, times = {}, {}
    for name, params in PAGES:
        client.get(reverse(name), params)  # warm
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(reverse(name), params)
            times[(name, str(params))] = (time.perf_counter() - started) * 1000
        assert response.status_code == 200
        counts[(name, str(params))] = len(queries)
    case = SupportCase.objects.filter(company=company).order_by("-pk").first()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("tickets:case_detail", args=[case.pk]))
    counts["detail"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        open_cases(company, limit=5)
        active_notices(company)
        times["open_cases+active_notices"] = (time.perf_counter() - started) * 1000
    counts["open_cases+active_notices"] = len(queries)
    return counts, times


def test_query_counts_do_not_grow_with_the_data():
    company = CompanyFactory()
    accounts = [BillingAccountFactory(company=company) for _ in range(20)]
    for account in accounts:
        SubscriptionFactory.create_batch(3, company=company, account=account)
    member = make_member(company, Role.SUPERUSER)
    client = verified_client(member.user)
    bench_tickets_seed(company=company, accounts=accounts, superuser=member.user, rng=random.Random(1), cases=12,
                       fault_reports=12)
    small, _ = _measure(client, company)
    bench_tickets_seed(company=company, accounts=accounts, superuser=member.user, rng=random.Random(2))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_supportcase; ANALYZE tickets_faultreport")
    assert SupportCase.objects.filter(company=company).count() == 20_012
    assert FaultReport.objects.filter(company=company).count() == 12 + 60  # as many as the company has lines
    large, times = _measure(client, company)
    assert large == small
    print("\nqueries:", small)
    print("ms at 20,000 cases:", {key: round(value, 1) for key, value in times.items()})
