"""The group filter's two SQL shapes (groups.selectors.LinesInGroups) give the same lines: read from the ids
(counts, exports, small groups) and walking the page's order (a page of a dense group)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups import selectors, services
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 10)


@pytest.fixture
def estate(company, other_company):
    """Cost centres 2010/2020 and office Aarhus: lines in a group of their own, through their account,
    with their own group overriding the account's, in no group; and another company's line."""
    manager = make_member(company)
    centre = make_category(company, "Cost centre")
    g2010, g2020 = make_group(centre, "2010"), make_group(centre, "2020")
    aarhus = make_group(make_category(company, "Office"), "Aarhus")
    with at(DAY):
        account, other_account = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
        lines = {name: SubscriptionFactory(account=account, employee_name=name)
                 for name in ("Anna", "Bo", "Carl", "Dora")}
        lines.update({name: SubscriptionFactory(account=other_account, employee_name=name)
                      for name in ("Eva", "Finn", "Gitte")})
        SubscriptionFactory(company=other_company, employee_name="Aase")
        month = date(2026, 12, 1)
        services.membership_add(membership=manager, line=account, group=g2010, start=month)   # Anna..Dora
        services.membership_add(membership=manager, line=lines["Bo"], group=g2020, start=month)  # Bo overrides
        services.membership_add(membership=manager, line=lines["Eva"], group=g2010, start=month)
        services.membership_add(membership=manager, line=lines["Finn"], group=g2020, start=month)
        services.membership_add(membership=manager, line=lines["Carl"], group=aarhus, start=month)
        services.membership_add(membership=manager, line=other_account, group=aarhus, start=month)
    return {"company": company, "lines": lines, "2010": g2010, "2020": g2020, "aarhus": aarhus}


CASES = [
    (("2010",), ["Anna", "Carl", "Dora", "Eva"]),
    (("2020",), ["Bo", "Finn"]),
    (("2010", "2020"), ["Anna", "Bo", "Carl", "Dora", "Eva", "Finn"]),
    (("2010", "aarhus"), ["Carl", "Eva"]),
    (("aarhus",), ["Carl", "Eva", "Finn", "Gitte"]),
]


@pytest.mark.parametrize("walk", [False, True], ids=["from-ids", "walking"])
@pytest.mark.parametrize(("chosen", "expected"), CASES)
def test_both_shapes_give_the_same_lines(estate, monkeypatch, walk, chosen, expected):
    # WALK_FACTOR 0: every group counts as dense; a huge one: none does.
    monkeypatch.setattr(selectors, "WALK_FACTOR", 0 if walk else 10**12)
    groups = [estate[name] for name in chosen]
    lines = Subscription.objects.filter(company=estate["company"])
    with at(DAY):
        narrowed = selectors.subscriptions_in_groups(lines, groups)
        ordered = narrowed.order_by("employee_name", "pk")
        with CaptureQueriesContext(connection) as page_queries:
            page = [line.employee_name for line in ordered[:50]]
        assert page == expected
        assert [line.employee_name for line in ordered[1:3]] == expected[1:3]
        assert sorted(line.employee_name for line in narrowed) == expected
        assert narrowed.count() == len(expected)
        assert narrowed.exists()
    page_sql = page_queries.captured_queries[-1]["sql"]
    # The page of dense groups is read walking the order (each set a filter of its own); otherwise from
    # the ids, the categories' sets in one subquery ("IN ((...)").
    assert (" IN ((" not in page_sql) == walk


def test_a_count_reads_from_the_ids_even_for_a_dense_group(estate, monkeypatch):
    monkeypatch.setattr(selectors, "WALK_FACTOR", 0)
    lines = Subscription.objects.filter(company=estate["company"])
    with at(DAY), CaptureQueriesContext(connection) as queries:
        assert selectors.subscriptions_in_groups(lines, [estate["aarhus"]]).count() == 4
    assert " IN ((" in queries.captured_queries[-1]["sql"]


def test_density_follows_the_size_of_the_groups():
    # 25,000 of 500,000 lines (a cost centre of the benchmark) walk; 500 of 500,000 read from the ids.
    assert selectors._is_dense(lines_in_groups=25_000, company_lines=500_000)
    assert not selectors._is_dense(lines_in_groups=500, company_lines=500_000)
    assert not selectors._is_dense(lines_in_groups=0, company_lines=0)
    # Two categories: 50,000 and 42,000 lines meet in about 4,200: walked; 6,000 and 6,000 in about 72:
    # read from the ids.
    assert selectors._is_dense(lines_in_groups=[50_000, 42_000], company_lines=500_000)
    assert not selectors._is_dense(lines_in_groups=[6_000, 6_000], company_lines=500_000)


def test_the_list_page_shows_the_same_lines_in_both_shapes(estate, monkeypatch):
    from django.urls import reverse

    results = {}
    for walk in (False, True):
        monkeypatch.setattr(selectors, "WALK_FACTOR", 0 if walk else 10**12)
        client = verified_client(make_member(estate["company"]).user)
        with at(DAY):
            response = client.get(reverse("subscriptions:list"), {"groups": [estate["2010"].pk]})
        assert response.status_code == 200
        results[walk] = [name for name in ("Anna", "Bo", "Carl", "Dora", "Eva", "Finn", "Gitte")
                         if name in response.content.decode()]
    assert results[False] == results[True] == ["Anna", "Carl", "Dora", "Eva"]


def _listed(client, **params):
    from django.urls import reverse

    with at(DAY):
        response = client.get(reverse("subscriptions:list"), params)
    assert response.status_code == 200
    page = response.context["list_page"]
    return page.count, [row.employee_name for row in page.rows]


@pytest.mark.parametrize(("chosen", "expected"), CASES)
def test_the_list_counts_groups_alone_from_their_sets_and_the_same_as_the_lines(estate, chosen, expected):
    """Groups alone, a login seeing every account: the count comes from the groups' sets (no join of the
    lines), and it is the number of lines the page lists."""
    client = verified_client(make_member(estate["company"]).user)
    groups = [estate[name].pk for name in chosen]
    with CaptureQueriesContext(connection) as queries:
        count, names = _listed(client, groups=groups)
    assert (count, names) == (len(expected), expected)
    sql = [query["sql"] for query in queries.captured_queries]
    assert any(query.startswith("SELECT count(*) FROM ((") for query in sql)
    assert not any(query.startswith('SELECT COUNT(*) AS "__count" FROM "subscriptions_subscription"') for query in sql)
    with at(DAY):
        assert selectors.lines_in_groups_count([estate[name] for name in chosen]) == len(expected)


def test_with_another_filter_a_search_or_a_restricted_login_the_lines_are_counted(estate):
    from subscriptions.models import Subscription as Line

    company, lines = estate["company"], estate["lines"]
    Line.objects.filter(pk=lines["Anna"].pk).update(status=Line.Status.BLOCKED)
    everyone = verified_client(make_member(company).user)
    assert _listed(everyone, groups=[estate["2010"].pk], status="blocked") == (1, ["Anna"])
    assert _listed(everyone, groups=[estate["2010"].pk], q="Eva") == (1, ["Eva"])
    # A login restricted to the second account sees Eva of cost centre 2010, not Anna, Carl or Dora.
    restricted = verified_client(make_member(company, accounts=[lines["Eva"].account]).user)
    assert _listed(restricted, groups=[estate["2010"].pk]) == (1, ["Eva"])
    assert _listed(restricted, groups=[estate["aarhus"].pk]) == (3, ["Eva", "Finn", "Gitte"])


def test_the_unfiltered_list_counts_from_the_kept_figures_in_the_logins_scope(estate):
    company, lines = estate["company"], estate["lines"]
    everyone = verified_client(make_member(company).user)
    restricted = verified_client(make_member(company, accounts=[lines["Eva"].account]).user)
    with CaptureQueriesContext(connection) as queries:
        assert _listed(everyone)[0] == 7  # not the other company's line
    assert not any(query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "subscriptions_subscription"')
                   for query in queries.captured_queries)
    assert _listed(restricted) == (3, ["Eva", "Finn", "Gitte"])
    SubscriptionFactory(account=lines["Eva"].account, employee_name="Hans")
    Subscription.objects.filter(pk=lines["Anna"].pk).delete()
    assert _listed(restricted)[0] == 4
    assert _listed(everyone)[0] == 7
