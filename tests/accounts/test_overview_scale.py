"""The overview and the global search cost the same queries for a handful of rows as for the benchmark's
support history (20,000 cases and the fault reports, tickets/bench.py) over many lines: on the first
visit too, since nothing of the overview is cached. Times are printed, not asserted."""

import random
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory
from tickets.bench import bench_tickets_seed

pytestmark = pytest.mark.django_db


def estate(lines: int, cases: int):
    company = CompanyFactory()
    accounts = BillingAccountFactory.create_batch(10, company=company)
    Subscription.objects.bulk_create(
        (SubscriptionFactory.build(company=company, account=accounts[index % 10], employee_name=f"Hansen {index}",
                                   number=f"+45 2{index:07d}", type=Subscription.Type.values[index % 4])
         for index in range(lines)), batch_size=2_000)
    superuser = make_member(company, Role.SUPERUSER)
    restricted = make_member(company, Role.READ_ONLY, accounts=accounts[:3])
    bench_tickets_seed(company=company, accounts=accounts, superuser=superuser.user, rng=random.Random(1),
                       cases=cases, fault_reports=cases // 4)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE subscriptions_subscription; ANALYZE tickets_supportcase; ANALYZE tickets_faultreport")
    return superuser, restricted


def measure(member) -> tuple[dict, dict]:
    counts, times = {}, {}
    pages = [("overview", {}), ("search_suggestions", {"q": "ans"}), ("search_suggestions", {"q": "+45 20000001"}),
             ("search", {"q": "ans"})]
    for name, params in pages:
        client = verified_client(member.user)  # a first visit: a new session
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(reverse(name), params, HTTP_HX_REQUEST="true" if name == "search_suggestions" else "")
            times[(name, str(params))] = round((time.perf_counter() - started) * 1000, 1)
        assert response.status_code == 200
        counts[(name, str(params))] = len(queries.captured_queries)
    return counts, times


def test_the_overview_and_the_search_cost_the_same_queries_at_the_benchmark_size():
    few = [measure(member)[0] for member in estate(lines=40, cases=8)]
    many = estate(lines=6_000, cases=20_000)
    measured = [measure(member) for member in many]
    assert [counts for counts, _times in measured] == few
    print("\nqueries (Superuser, restricted):", few)
    print("ms at 6,000 lines and 20,000 cases:", [times for _counts, times in measured])
