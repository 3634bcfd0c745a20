"""Groups everywhere: the lists filter by them, the exports carry them, the line pages show them;
the pages that change groups; the cost report against the invoice lines; budget alerts."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from accounts.permissions import Permission, Role
from groups import budgets, services
from groups.models import MAX_CATEGORIES, BudgetAlert, GroupMembership
from groups.services import period_range
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, PricePlanFactory, SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group, make_invoice

pytestmark = pytest.mark.django_db

DEC, JAN, FEB = date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
TODAY = date(2026, 12, 10)


def _join(line, group, start=DEC, end=None):
    kwargs = {"subscription": line} if hasattr(line, "employee_name") else {"account": line}
    return GroupMembership.objects.create(company_id=group.company_id, category=group.category, group=group,
                                          period=period_range(start, end), **kwargs)


@pytest.fixture
def estate(company):
    with at(TODAY):
        category = make_category(company)
        g2010, g2020 = make_group(category, "2010"), make_group(category, "2020")
        aarhus = make_group(make_category(company, "Office"), "Aarhus")
        account = BillingAccountFactory(company=company)
        anna = SubscriptionFactory(account=account, employee_name="Anna Holm")
        bent = SubscriptionFactory(account=account, employee_name="Bent Dahl")
        carl = SubscriptionFactory(account=account, employee_name="Carl Lund")
    _join(anna, g2010)
    _join(bent, g2010, end=DEC)
    _join(bent, g2020, start=JAN)  # moves in January
    _join(anna, aarhus)
    return {"g2010": g2010, "g2020": g2020, "aarhus": aarhus, "account": account, "anna": anna, "bent": bent,
            "carl": carl}


def _names(response):
    text = response.content.decode()
    return [name for name in ("Anna Holm", "Bent Dahl", "Carl Lund") if name in text]


def test_the_subscription_list_filters_by_one_or_several_groups_this_month(company, estate):
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    url = reverse("subscriptions:list")
    with at(TODAY):
        assert _names(client.get(url, {"groups": estate["g2010"].pk})) == ["Anna Holm", "Bent Dahl"]
        assert _names(client.get(url, {"groups": [estate["g2010"].pk, estate["aarhus"].pk]})) == ["Anna Holm"]
        assert _names(client.get(url, {"groups": estate["g2020"].pk})) == []
    with at(date(2027, 1, 1)):  # the move is in force on the 1st, with no job in between
        assert _names(client.get(url, {"groups": estate["g2020"].pk})) == ["Bent Dahl"]
        assert _names(client.get(url, {"groups": [estate["g2010"].pk, estate["g2020"].pk]})) == ["Anna Holm",
                                                                                                  "Bent Dahl"]


def test_the_group_filter_offers_only_the_companys_groups_and_refuses_anothers(company, other_company, estate):
    foreign = make_group(make_category(other_company), "Fremmed")
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(TODAY):
        page = client.get(reverse("subscriptions:list")).content.decode()
        refused = client.get(reverse("subscriptions:list"), {"groups": foreign.pk})
    assert "Cost centre:2010" in page and "Fremmed" not in page
    assert "Select a valid choice" in refused.content.decode()


def test_the_list_filtered_by_groups_does_not_grow_its_queries_with_the_rows(company, estate):
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    url = reverse("subscriptions:list")
    with at(TODAY):
        client.get(url, {"groups": estate["g2010"].pk})
        with CaptureQueriesContext(connection) as few:
            client.get(url, {"groups": estate["g2010"].pk})
        for _index in range(10):
            _join(SubscriptionFactory(account=estate["account"]), estate["g2010"])
        with CaptureQueriesContext(connection) as many:
            client.get(url, {"groups": estate["g2010"].pk})
    assert len(many) == len(few)


def test_the_exports_carry_one_column_per_category_with_the_current_group(company, estate):
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(TODAY):
        response = client.get(reverse("subscriptions:list_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=","))
    header = rows[0]
    assert header[-2:] == ["Cost centre", "Office"]
    by_name = {row[0]: row[-2:] for row in rows[1:]}
    assert by_name == {"Anna Holm": ["2010", "Aarhus"], "Bent Dahl": ["2010", ""], "Carl Lund": ["", ""]}
    with at(TODAY):
        workbook = client.get(reverse("subscriptions:list_export_xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(workbook.streaming_content) if workbook.streaming
                                     else workbook.content)).active
    assert list(next(sheet.iter_rows(values_only=True)))[-2:] == ["Cost centre", "Office"]


def test_the_account_list_filters_by_group_and_exports_its_groups(company, estate):
    other = BillingAccountFactory(company=company, name="Anden konto")
    _join(estate["account"], estate["g2020"])
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(TODAY):
        page = client.get(reverse("subscriptions:accounts"), {"groups": estate["g2020"].pk}).content.decode()
        export = client.get(reverse("subscriptions:accounts_export"))
    assert estate["account"].number in page and other.number not in page
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-2:] == ["Cost centre", "Office"]
    assert {row[0]: row[-2] for row in rows[1:]} == {estate["account"].number: "2020", other.number: ""}


def test_the_line_pages_show_groups_over_time(company, estate):
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(TODAY):
        page = client.get(reverse("subscriptions:detail", args=[estate["bent"].pk])).content.decode()
        account_page = client.get(reverse("subscriptions:account_detail", args=[estate["account"].pk])).content.decode()
    assert "Cost centre:2010" in page and "Cost centre:2020" in page and "2027-01" in page and "Later" in page
    assert "Show the groups" in page and "Show and change" not in page
    assert "In no group." in account_page


def test_a_restricted_login_sees_and_assigns_only_its_own_accounts_lines(company, estate):
    with at(TODAY):
        outside = BillingAccountFactory(company=company)
        elsewhere = SubscriptionFactory(account=outside, employee_name="Dora Berg")
        _join(elsewhere, estate["g2010"])
        restricted = make_member(company, Role.ADMINISTRATOR, accounts=[estate["account"]])
        client = verified_client(restricted.user)
        detail = client.get(reverse("groups:group_detail", args=[estate["g2010"].pk])).content.decode()
        listed = client.get(reverse("subscriptions:list"), {"groups": estate["g2010"].pk}).content.decode()
        refused = client.post(reverse("groups:subscription", args=[elsewhere.pk]),
                              {"action": "add", "group": estate["g2020"].pk, "start_month": "2026-12"})
    assert "Anna Holm" in detail and "Dora Berg" not in detail
    assert "Anna Holm" in listed and "Dora Berg" not in listed
    assert refused.status_code == 404


def test_adding_and_moving_from_the_line_page(company, estate):
    manager = make_member(company)
    client = verified_client(manager.user)
    url = reverse("groups:subscription", args=[estate["carl"].pk])
    with at(TODAY):
        response = client.post(url, {"action": "add", "group": estate["g2010"].pk, "start_month": "2026-12"})
        assert response.status_code == 302
        clash = client.post(url, {"action": "add", "group": estate["g2020"].pk, "start_month": "2027-02"})
        assert clash.status_code == 400
        assert "overlaps Cost centre:2010 from 2026-12 until open-ended" in clash.content.decode()
        moved = client.post(url, {"action": "move", "move-group": estate["g2020"].pk, "move-month": "2027-02"})
        assert moved.status_code == 302
        bad = client.post(url, {"action": "add", "group": estate["aarhus"].pk, "start_month": "2026-13"})
        assert "Write the month as YYYY-MM" in bad.content.decode()
    periods = sorted((m.group.name, m.start_month, m.end_month) for m in estate["carl"].group_memberships.all())
    assert periods == [("2010", DEC, JAN), ("2020", FEB, None)]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GROUP_MEMBERSHIP_CHANGED, company=company).count() == 2


def test_the_links_to_create_more_disappear_at_the_limits(company):
    manager = make_member(company)
    client = verified_client(manager.user)
    for index in range(MAX_CATEGORIES - 1):
        services.category_create(membership=manager, name=f"C{index}")
    assert reverse("groups:category_create") in client.get(reverse("groups:index")).content.decode()
    services.category_create(membership=manager, name="The tenth")
    page = client.get(reverse("groups:index")).content.decode()
    assert reverse("groups:category_create") not in page and "the most there can be" in page
    refused = client.post(reverse("groups:category_create"), {"name": "Eleventh"})
    assert refused.status_code == 400 and "the most there can be" in refused.content.decode()


def test_deleting_a_group_with_members_asks_first_and_says_what_happens(company, estate):
    client = verified_client(make_member(company).user)
    url = reverse("groups:group_delete", args=[estate["g2010"].pk])
    page = client.get(url).content.decode()
    assert "Its 2 memberships (all months) are deleted too" in page
    assert client.post(url).status_code == 302
    assert not GroupMembership.objects.filter(group_id=estate["g2010"].pk).exists()


def test_the_cost_report_totals_match_the_invoice_lines(company, estate):
    account = estate["account"]
    nov, dec = date(2026, 11, 1), DEC
    _join(estate["carl"], estate["g2020"], start=nov, end=nov)  # in 2020 in November only
    GroupMembership.objects.filter(subscription=estate["anna"], category=estate["g2010"].category).update(
        period=period_range(nov, None))
    make_invoice(account, nov, [(estate["anna"], "100.00"), (estate["carl"], "40.50"), (None, "9.50")])
    make_invoice(account, dec, [(estate["anna"], "110.00"), (estate["bent"], "20.00"), (estate["carl"], "41.00")])
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(date(2027, 1, 5)):
        page = client.get(reverse("groups:costs"))
        export = client.get(reverse("groups:costs_export"), {"until": "2026-12"})
    report = page.context["report"]
    rows = {row["label"]: row["amounts"][-2:] for row in report.rows}
    assert rows == {"2010": [Decimal("100.00"), Decimal("130.00")], "2020": [Decimal("40.50"), Decimal("0.00")],
                    "No group": [Decimal("9.50"), Decimal("41.00")]}
    from invoices.models import InvoiceLine

    assert report.total == sum(InvoiceLine.objects.filter(company=company).values_list("net_amount", flat=True))
    assert "No group" in page.content.decode() and 'class="bar-chart"' in page.content.decode()
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert ["Cost centre", "2010", "2026-12", "130.00"] in lines


def test_a_restricted_login_sees_only_its_accounts_costs(company, estate):
    outside = BillingAccountFactory(company=company)
    line = SubscriptionFactory(account=outside)
    _join(line, estate["g2010"], start=date(2026, 11, 1))
    make_invoice(outside, date(2026, 11, 1), [(line, "999.00")])
    make_invoice(estate["account"], date(2026, 11, 1), [(estate["anna"], "1.00")])
    restricted = make_member(company, permissions={Permission.VIEW_INVOICES}, accounts=[estate["account"]])
    with at(TODAY):
        report = verified_client(restricted.user).get(reverse("groups:costs")).context["report"]
    assert report.total == Decimal("1.00")


@pytest.mark.parametrize("language", ["en"])
def test_budget_alerts_go_once_at_80_and_once_at_100_percent(company, estate, settings, language):
    settings.LANGUAGE_CODE = language
    make_member(company, Role.SUPERUSER, email="boss@nordlys.example")
    group = estate["g2010"]
    group.monthly_budget, group.contact_email = Decimal("400.00"), "cc2010@nordlys.example"
    group.save()
    plan = PricePlanFactory(code="budget-plan", monthly_fee=Decimal("149.00"), data_gb=1)
    from subscriptions.models import Subscription, UsageRecord

    # Active all month (started on the 1st): the estimate charges their whole month's fees.
    Subscription.objects.filter(pk__in=[estate["anna"].pk, estate["bent"].pk]).update(plan=plan, activated_on=DEC)
    with at(TODAY):
        assert budgets.group_estimate(group=group) == Decimal("298.00")  # 74.5 %: no alert yet
        assert budgets.budget_alerts_check() == []
        UsageRecord.objects.create(company=company, subscription=estate["anna"], period=DEC, data_mb=2 * 1024)
        first = budgets.budget_alerts_check()  # 298 + 49 (1 GB beyond) = 347: 86.75 %
        assert [alert.threshold for alert in first] == [80]
        assert budgets.budget_alerts_check() == []  # again: nothing new
        UsageRecord.objects.filter(subscription=estate["anna"]).update(data_mb=4 * 1024)
        assert [alert.threshold for alert in budgets.budget_alerts_check()] == [100]  # 298 + 147 = 445
        assert budgets.budget_alerts_check() == []
    mails = OutboxMessage.objects.filter(subject__contains="of its budget")
    assert sorted(mail.recipient for mail in mails) == sorted(["boss@nordlys.example", "cc2010@nordlys.example"] * 2)
    assert f"/subscriptions/?groups={group.pk}" in mails[0].body
    assert BudgetAlert.objects.count() == 2


def test_a_budget_alert_row_is_unique_per_group_month_and_threshold(company, estate):
    from django.db import IntegrityError, transaction

    values = {"company": company, "group": estate["g2010"], "month": DEC, "threshold": 80, "estimate": 1, "budget": 1}
    BudgetAlert.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetAlert.objects.create(**values)


def test_the_invoice_list_filters_by_group_in_each_invoices_month(company, estate):
    account, other = estate["account"], BillingAccountFactory(company=company)
    elsewhere = SubscriptionFactory(account=other)
    nov = date(2026, 11, 1)
    in_2010 = make_invoice(account, DEC, [(estate["anna"], "10.00")])  # Anna is in 2010 from December
    before = make_invoice(account, nov, [(estate["anna"], "11.00")])  # ... not yet in November
    _join(other, estate["g2020"], start=nov)
    account_in_2020 = make_invoice(other, nov, [(elsewhere, "12.00")])
    client = verified_client(make_member(company, Role.READ_ONLY).user)

    def numbers(*groups):
        response = client.get(reverse("invoices:index"), {"groups": [group.pk for group in groups]})
        assert response.status_code == 200
        text = response.content.decode()
        return {invoice.number for invoice in (in_2010, before, account_in_2020) if str(invoice.number) in text}

    with at(TODAY):
        assert numbers(estate["g2010"]) == {in_2010.number}
        assert numbers(estate["g2020"]) == {account_in_2020.number}
        assert numbers(estate["g2010"], estate["g2020"]) == {in_2010.number, account_in_2020.number}


def test_the_group_page_shows_the_budget_against_the_estimate(company, estate):
    group = estate["g2010"]
    group.monthly_budget = Decimal("1000.00")
    group.save()
    plan = PricePlanFactory(code="budget-page-plan", monthly_fee=Decimal("100.00"), data_gb=None)
    from subscriptions.models import Subscription

    Subscription.objects.filter(pk__in=[estate["anna"].pk, estate["bent"].pk]).update(plan=plan, activated_on=DEC)
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(TODAY):
        page = client.get(reverse("groups:group_detail", args=[group.pk])).content.decode()
    assert "Estimated 200.00 of 1000.00 (excl. VAT): 20 %" in page and 'class="bar-chart"' in page
    assert "Anna Holm" in page and "Bent Dahl" in page
