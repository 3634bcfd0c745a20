"""manage.py seed_bench (the benchmark data set) and a smoke run of manage.py bench."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from stdnum.dk import cvr

from accounts.models import AuditEvent, Company, Membership, User
from accounts.permissions import Role
from selfcare.bench import data as bench
from subscriptions.models import BillingAccount, Subscription
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

N = 600


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_bench", stdout=out, **{"subscriptions": N, "orders": 40, **options})
    return out.getvalue()


def bench_counts() -> dict:
    companies = bench.bench_companies()
    return {
        "companies": companies.count(),
        "accounts": BillingAccount.objects.filter(company__in=companies).count(),
        "subscriptions": Subscription.objects.filter(company__in=companies).count(),
        "logins": bench.bench_users().count(),
        "memberships": Membership.objects.filter(company__in=companies).count(),
        "restricted_accounts": Membership.accounts.through.objects.filter(membership__company__in=companies).count(),
    }


def test_seed_bench_creates_the_data_set():
    output = seed()

    company = bench.big_company()
    assert company.country == "DK"
    assert Subscription.objects.filter(company=company).count() == N
    accounts = BillingAccount.objects.filter(company=company)
    assert accounts.count() == bench.DEFAULT_ACCOUNTS
    # Spread over every account, and every subscription under an account of its own company.
    assert Subscription.objects.filter(company=company).values("account").distinct().count() == bench.DEFAULT_ACCOUNTS
    assert not Subscription.objects.exclude(account__company_id=F("company_id")).exists()

    small = bench.bench_companies().exclude(pk=company.pk)
    assert small.count() == bench.DEFAULT_SMALL_COMPANIES
    for small_company in small:
        assert 2 <= BillingAccount.objects.filter(company=small_company).count() <= 3
        assert 3 <= Subscription.objects.filter(company=small_company).count() <= 8
        assert Membership.objects.filter(company=small_company, role=Role.SUPERUSER).count() == 1

    numbers = list(bench.bench_companies().values_list("registration_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 1 + bench.DEFAULT_SMALL_COMPANIES
    assert all(cvr.is_valid(number) for number in numbers)
    assert not BillingAccount.objects.filter(company__in=bench.bench_companies()).exclude(
        number__startswith=bench.BENCH_ACCOUNT_PREFIX).exists()

    superuser = User.objects.get(email=bench.SUPERUSER_EMAIL)
    assert superuser.check_password(bench.BENCH_PASSWORD)
    assert superuser.mobile == bench.SUPERUSER_MOBILE
    membership = superuser.memberships.get()
    assert (membership.company, membership.role, membership.all_accounts) == (company, Role.SUPERUSER, True)

    restricted = User.objects.get(email=bench.RESTRICTED_EMAIL)
    assert restricted.check_password(bench.BENCH_PASSWORD)
    membership = restricted.memberships.get()
    assert membership.company == company and not membership.all_accounts
    assert membership.accounts.count() == bench.DEFAULT_RESTRICTED_ACCOUNTS
    assert not membership.accounts.exclude(company=company).exists()

    assert bench.SUPERUSER_EMAIL in output and bench.BENCH_PASSWORD in output
    assert f"{N:,} subscriptions took" in output

    status = bench.bench_data_status()
    assert (status.company, status.subscriptions, status.restricted_accounts) == (
        company, N, bench.DEFAULT_RESTRICTED_ACCOUNTS)


def test_seed_bench_again_replaces_and_leaves_other_data_alone():
    # Data that is not the bench's: a company, its account and subscription, a login, and a company
    # that already holds the first CVR number of the bench range.
    other = CompanyFactory(name="Nordlys A/S")
    other_subscription = SubscriptionFactory(account=BillingAccountFactory(company=other))
    squatter = CompanyFactory(name="Første CVR ApS", registration_number="89000009")
    assert cvr.is_valid(squatter.registration_number)
    login = UserFactory()

    seed()
    first = bench_counts()
    first_company = bench.big_company()
    table = filenode("subscriptions_subscription")
    seed()  # again: no failure, no duplicates
    assert bench_counts() == first
    assert bench.big_company().pk != first_company.pk  # replaced, not added to
    assert filenode("subscriptions_subscription") == table  # deleted by company, not truncated

    assert first["subscriptions"] >= N and first["companies"] == 1 + bench.DEFAULT_SMALL_COMPANIES
    assert Subscription.objects.filter(pk=other_subscription.pk).exists()
    assert Company.objects.filter(pk__in=[other.pk, squatter.pk]).count() == 2
    assert User.objects.filter(pk=login.pk).exists()
    assert bench.big_company().registration_number != squatter.registration_number


def filenode(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode(%s::regclass)", [table])
        return cursor.fetchone()[0]


def test_seed_bench_again_truncates_when_the_tables_hold_only_bench_rows():
    from selfcare.jobs.models import Job

    seed()
    first = bench_counts()
    table, memberships = filenode("subscriptions_subscription"), filenode("groups_groupmembership")
    seed()
    assert bench_counts() == first
    # TRUNCATE gives a table new storage; a DELETE leaves the dead rows in the old one.
    assert filenode("subscriptions_subscription") != table
    assert filenode("groups_groupmembership") != memberships
    # An operator job (no company) is not a bench row: the tables are then deleted by company.
    job = Job.objects.create(company=None, operator=True, kind="invoices.billing_run", title="Billing run")
    table = filenode("subscriptions_subscription")
    seed()
    assert bench_counts() == first
    assert filenode("subscriptions_subscription") == table
    assert Job.objects.filter(pk=job.pk).exists()


def test_seed_bench_options_and_delete():
    seed(subscriptions=40, accounts=10, small_companies=4, restricted_accounts=2, colleagues=7, audit_events=90)
    counts = bench_counts()
    assert counts["companies"] == 5
    assert Subscription.objects.filter(company=bench.big_company()).count() == 40
    assert BillingAccount.objects.filter(company=bench.big_company()).count() == 10
    assert counts["logins"] == 3 + 4 + 7  # superuser, restricted, staff; owners; colleagues
    assert Membership.objects.get(user__email=bench.RESTRICTED_EMAIL).accounts.count() == 2
    assert counts["restricted_accounts"] == 2 + 3 * 2  # and every third colleague sees two accounts
    assert AuditEvent.objects.filter(company=bench.big_company()).count() == 90

    keep = SubscriptionFactory()
    call_command("seed_bench", delete=True, stdout=StringIO())
    assert bench_counts() == dict.fromkeys(counts, 0)
    assert not AuditEvent.objects.exists()  # the log's bench rows go with their company
    assert Subscription.objects.filter(pk=keep.pk).exists()


def subscription_indexes() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'subscriptions_subscription'")
        return {row[0] for row in cursor.fetchall()}


def test_seed_bench_sizes_one_big_company_each(monkeypatch):
    """--sizes: one big company per size, the bench logins in each; the bulk path (indexes dropped for
    the COPY and built again, one DELETE per table on the next run) leaves the same indexes and rows."""
    monkeypatch.setattr(bench, "REBUILD_INDEXES_FROM", 50)
    indexes = subscription_indexes()
    other = SubscriptionFactory(account=BillingAccountFactory(company=CompanyFactory(name="Nordlys A/S")))
    output = seed(sizes=[30, 70], accounts=5, small_companies=2, colleagues=3, audit_events=60)
    assert "indexes of subscriptions_subscription built again" in output
    assert subscription_indexes() == indexes

    status = bench.bench_data_status()
    assert status.sizes == [30, 70] and status.company == bench.big_company() and status.subscriptions == 30
    assert status.staff is not None and status.staff.is_staff and status.staff.is_superuser
    for entry in status.companies:
        assert Subscription.objects.filter(company=entry.company).count() == entry.subscriptions
        assert not Subscription.objects.filter(company=entry.company).exclude(account__company=entry.company).exists()
        restricted = Membership.objects.get(user=status.restricted, company=entry.company)
        assert restricted.accounts.count() == bench.DEFAULT_RESTRICTED_ACCOUNTS
        assert not restricted.accounts.exclude(company=entry.company).exists()
        assert Membership.objects.get(user=status.superuser, company=entry.company).all_accounts
    first = bench_counts()
    assert first["companies"] == 2 + 2

    seed(sizes=[30, 70], accounts=5, small_companies=2, colleagues=3, audit_events=60)  # replaced
    assert bench_counts() == first
    assert subscription_indexes() == indexes
    assert Subscription.objects.filter(pk=other.pk).exists()


def test_bench_command_smoke(tmp_path):
    """A tiny run of manage.py bench: every scenario gets its expected responses and the JSON is written."""
    seed(subscriptions=60, accounts=10, small_companies=2, colleagues=5, audit_events=30)
    output_path = tmp_path / "bench.json"
    out = StringIO()
    call_command("bench", iterations=2, warmup=1, output=str(output_path), stdout=out)

    results = json.loads(output_path.read_text())
    scenarios = {scenario["key"]: scenario for scenario in results["scenarios"]}
    from selfcare.management.commands.bench import SCENARIOS

    main = {key.split("@")[0] for key, scenario in scenarios.items() if not scenario["beside"]}
    assert main == set(SCENARIOS) and "subscriptions_export_csv@60" in scenarios
    # Beside every list page the back office's changelist, beside every export psql's \copy, same size.
    for key in ("subscriptions_name_fragment", "subscriptions_last_page", "employee_page"):
        assert scenarios[f"admin_{key}@60"]["beside"] == f"{key}@60"
    assert scenarios["psql_copy_csv@60"]["beside"] == "subscriptions_export_csv@60"
    assert scenarios["subscriptions_export_csv@60"]["peak_memory_growth_mb"] is not None
    assert scenarios["reference"]["ratio_to_reference"] == 1.0
    assert scenarios["reference"]["queries_per_iteration"]["max"] >= 1
    assert scenarios["login_flow"]["requests_per_iteration"] == 3
    assert all(scenario["median_ms"] > 0 for scenario in scenarios.values())
    assert results["data"]["subscriptions"] == 60
    assert results["machine"]["cpu_count"] >= 1
    text = out.getvalue()
    assert "median ms" in text and "login flow" in text and "hasher" in text
