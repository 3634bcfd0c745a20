"""Memberships over months: the database's exclusion constraint, the form's messages, moves, the clock."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from groups import selectors, services
from groups.models import GroupMembership
from groups.services import period_range
from subscriptions.models import Subscription
from tests.conftest import make_member
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1)


@pytest.fixture
def line(company):
    with at(date(2026, 12, 10)):
        return SubscriptionFactory(company=company)


@pytest.fixture
def manager(company):
    return make_member(company)


def _raw_insert(membership_row_values):
    columns = ", ".join(membership_row_values)
    placeholders = ", ".join(["%s"] * len(membership_row_values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO groups_groupmembership ({columns}) VALUES ({placeholders})",
                       list(membership_row_values.values()))


def _values(line, group, period):
    return {"company_id": line.company_id, "category_id": group.category_id, "group_id": group.pk,
            "subscription_id": line.pk, "account_id": None, "period": period, "created_at": "2026-12-01"}


def test_the_database_refuses_an_overlapping_period_inserted_around_the_form(line, cost_centres):
    _category, g2010, g2020 = cost_centres
    _raw_insert(_values(line, g2010, "[2027-01-01,2027-04-01)"))
    with pytest.raises(IntegrityError, match="group_membership_subscription_no_overlap"):
        _raw_insert(_values(line, g2020, "[2027-03-01,)"))
    # Right after it (April onwards) is fine: the periods touch, they do not overlap.
    _raw_insert(_values(line, g2020, "[2027-04-01,)"))
    # A group of another category may overlap freely.
    office = make_group(make_category(line.company, "Office"), "Aarhus")
    _raw_insert(_values(line, office, "[2027-01-01,)"))
    assert GroupMembership.objects.count() == 3


def test_the_database_refuses_a_category_that_is_not_the_groups(line, cost_centres):
    _category, g2010, _g2020 = cost_centres
    office = make_category(line.company, "Office")
    values = _values(line, g2010, "[2027-01-01,)")
    values["category_id"] = office.pk  # would dodge the constraint of the group's real category
    with pytest.raises(IntegrityError):
        _raw_insert(values)


def test_the_database_refuses_another_companys_line(line, cost_centres, other_company):
    _category, g2010, _g2020 = cost_centres
    foreign = SubscriptionFactory(company=other_company)
    values = _values(line, g2010, "[2027-01-01,)")
    values["subscription_id"] = foreign.pk
    with pytest.raises(IntegrityError):
        _raw_insert(values)


def test_an_overlap_is_refused_with_a_message_naming_the_clash(line, cost_centres, manager):
    _category, g2010, g2020 = cost_centres
    with at(date(2026, 12, 10)):
        services.membership_add(membership=manager, line=line, group=g2010, start=JAN, end=MAR)
        with pytest.raises(ValidationError) as refused:
            services.membership_add(membership=manager, line=line, group=g2020, start=FEB)
    assert "Cost centre:2010 from 2027-01 until 2027-03" in refused.value.messages[0]
    assert GroupMembership.objects.count() == 1


def test_the_start_month_must_be_within_the_window(line, cost_centres, manager):
    _category, g2010, _g2020 = cost_centres
    with at(date(2026, 12, 10)):
        with pytest.raises(ValidationError) as early:
            services.membership_add(membership=manager, line=line, group=g2010, start=date(2026, 11, 1))
        with pytest.raises(ValidationError):
            services.membership_add(membership=manager, line=line, group=g2010, start=date(2028, 1, 1))
        services.membership_add(membership=manager, line=line, group=g2010, start=date(2027, 12, 1))
    assert "from 2026-12 to 2027-12" in early.value.messages[0]


def test_a_move_for_next_month_is_invisible_today_and_in_force_on_the_first(line, cost_centres, manager):
    _category, g2010, g2020 = cost_centres
    with at(date(2026, 12, 10)):
        services.membership_add(membership=manager, line=line, group=g2010, start=date(2026, 12, 1))
        services.membership_move(membership=manager, line=line, group=g2020, month=JAN)
    lines = Subscription.objects.filter(company=line.company)
    with at(date(2026, 12, 31)):
        assert list(selectors.subscriptions_in_groups(lines, [g2010])) == [line]
        assert not selectors.subscriptions_in_groups(lines, [g2020]).exists()
    with at(date(2027, 1, 1)):
        assert not selectors.subscriptions_in_groups(lines, [g2010]).exists()
        assert list(selectors.subscriptions_in_groups(lines, [g2020])) == [line]
    old, new = GroupMembership.objects.order_by("period")
    assert (old.start_month, old.end_month, new.start_month, new.end_month) == (date(2026, 12, 1), date(2026, 12, 1),
                                                                                  JAN, None)


def test_a_subscription_without_a_group_of_its_own_is_in_its_accounts(company, cost_centres, manager):
    _category, g2010, g2020 = cost_centres
    with at(date(2026, 12, 10)):
        account = BillingAccountFactory(company=company)
        own, inherits = SubscriptionFactory(account=account), SubscriptionFactory(account=account)
        services.membership_add(membership=manager, line=account, group=g2010, start=date(2026, 12, 1))
        services.membership_add(membership=manager, line=own, group=g2020, start=date(2026, 12, 1))
        lines = Subscription.objects.filter(company=company)
        assert list(selectors.subscriptions_in_groups(lines, [g2010])) == [inherits]
        assert list(selectors.subscriptions_in_groups(lines, [g2020])) == [own]
        assert set(selectors.subscriptions_in_groups(lines, [g2010, g2020])) == {own, inherits}


def test_groups_of_several_categories_must_all_hold(company, cost_centres, manager):
    _category, g2010, _g2020 = cost_centres
    aarhus = make_group(make_category(company, "Office"), "Aarhus")
    with at(date(2026, 12, 10)):
        both, one = SubscriptionFactory(company=company), SubscriptionFactory(company=company)
        for line in (both, one):
            services.membership_add(membership=manager, line=line, group=g2010, start=date(2026, 12, 1))
        services.membership_add(membership=manager, line=both, group=aarhus, start=date(2026, 12, 1))
        lines = Subscription.objects.filter(company=company)
        assert list(selectors.subscriptions_in_groups(lines, [g2010, aarhus])) == [both]


def test_the_limits_hold_on_the_server(company, manager):
    from groups.models import MAX_CATEGORIES, MAX_GROUPS

    categories = [services.category_create(membership=manager, name=f"C{index}") for index in range(MAX_CATEGORIES)]
    with pytest.raises(ValidationError):
        services.category_create(membership=manager, name="One too many")
    for index in range(MAX_GROUPS):
        services.group_create(membership=manager, category=categories[index % 3], name=f"G{index}")
    with pytest.raises(ValidationError):
        services.group_create(membership=manager, category=categories[0], name="One too many")


def test_a_name_is_used_once_in_a_category(company, cost_centres, manager):
    category, _g2010, _g2020 = cost_centres
    with pytest.raises(ValidationError) as refused:
        services.group_create(membership=manager, category=category, name="2010")
    assert "name" in refused.value.message_dict
    other = services.category_create(membership=manager, name="Office")
    services.group_create(membership=manager, category=other, name="2010")  # another category: fine


def test_period_range_is_whole_months():
    assert period_range(JAN, MAR).lower == JAN and period_range(JAN, MAR).upper == APR
    assert period_range(JAN, None).upper is None


def test_the_demo_has_two_categories_and_a_move_next_month():
    import io

    from django.core.management import call_command

    from groups.models import Group, GroupCategory
    from groups.months import month_after, this_month

    call_command("seed_demo", stdout=io.StringIO())
    counts = (GroupCategory.objects.count(), Group.objects.count(), GroupMembership.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (GroupCategory.objects.count(), Group.objects.count(), GroupMembership.objects.count()) == counts
    assert set(GroupCategory.objects.values_list("name", flat=True)) == {"Cost centre", "Office"}
    assert GroupMembership.objects.filter(period__startswith=month_after(this_month())).exists()
