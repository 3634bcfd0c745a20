"""A group's budget estimate is the billing run's calculation: once the month is invoiced it equals the group's
invoice lines (the cost report's amounts), and before that it pro-rates lines started, ended and changed
mid-month and charges usage drawn from a pool only beyond the pool's allowance."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounts.permissions import Role
from groups import budgets
from groups.costs import cost_amounts
from groups.models import GroupMembership
from groups.services import period_range
from invoices.billing import billing_run
from invoices.models import InvoiceLine, UsagePool, UsagePoolMember
from orders.models import Order
from subscriptions.models import AddOnChange, PlanChange, Subscription, SubscriptionEvent, UsageRecord
from tests.conftest import make_member
from tests.factories import AddOnFactory, BillingAccountFactory, PricePlanFactory, SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
GB = 1024


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _join(group, start, **line):
    GroupMembership.objects.create(company_id=group.company_id, category=group.category, group=group,
                                   period=period_range(start, None), **line)


def _line(account, plan, name, activated_on=date(2025, 1, 1)):
    return SubscriptionFactory(company=account.company, account=account, plan=plan, employee_name=name,
                               activated_on=activated_on)


def _used(line, period, gigabytes):
    UsageRecord.objects.update_or_create(company=line.company, subscription=line, period=period,
                                         defaults={"data_mb": int(gigabytes * GB)})


@pytest.fixture
def plans():
    return (PricePlanFactory(code="bud-149", name="Mobil 149", monthly_fee=D("149.00"), data_gb=1),
            PricePlanFactory(code="bud-299", name="Mobil 299", monthly_fee=D("299.00"), data_gb=5))


def test_the_estimate_of_an_invoiced_month_is_the_groups_invoice_lines(company, plans):
    basic, bigger = plans
    category = make_category(company)
    g2010, g2020 = make_group(category, "2010"), make_group(category, "2020")
    on_a, on_b = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    _join(g2020, NOV, account=on_a)
    anna = _line(on_b, basic, "Anna")  # own group 2010; plan 149 -> 299 on the 16th
    PlanChange.objects.create(company=company, subscription=anna, changed_on=date(2026, 11, 16), plan_before=basic,
                              plan_after=bigger)
    Subscription.objects.filter(pk=anna.pk).update(plan=bigger)
    bent = _line(on_b, basic, "Bent", activated_on=date(2026, 11, 21))  # own group 2010, from the 21st
    dora = _line(on_a, basic, "Dora")  # own group 2010 on 2020's account; roaming from the 11th
    roaming = AddOnFactory(code="bud-roam", name="Roaming", monthly_fee=D("49.00"))
    dora.add_ons.add(roaming)
    AddOnChange.objects.create(company=company, subscription=dora, changed_on=date(2026, 11, 11), add_on=roaming,
                               added=True)
    carl = _line(on_a, basic, "Carl")  # no group of its own: its account's, 2020
    _line(on_b, basic, "Eva")  # in no group
    for line in (anna, bent, dora):
        _join(g2010, NOV, subscription=line)
    pool = UsagePool.objects.create(company=company, account=on_a, name="Fælles", data_gb=1)
    for line, gigabytes in ((bent, 2), (carl, 1.5)):
        UsagePoolMember.objects.create(company=company, pool=pool, subscription=line)
        _used(line, NOV, gigabytes)
    _used(anna, NOV, 3)  # within the 5 GB of the plan she has at the month's end
    order = OrderFactory(company=company, account=on_a, subscription=None, employee_name="Ny", quantity=2,
                         unit_price=D("99.50"), status=Order.Status.COMPLETED)
    Order.objects.filter(pk=order.pk).update(status_changed_at=noon(date(2026, 11, 20)))

    with at(date(2026, 11, 25)):
        before = {group.pk: budgets.group_estimate(group=group) for group in (g2010, g2020)}
    with at(date(2026, 12, 1)):
        billing_run(period=NOV)
        after = {group.pk: budgets.group_estimate(group=group, month=NOV) for group in (g2010, g2020)}
        invoiced = cost_amounts(membership=make_member(company, Role.READ_ONLY), category=category, first=NOV,
                                last=NOV)

    # 2010: Anna 149 × 15/30 + 299 × 15/30, Bent 149 × 10/30, Dora 149 + roaming 49 × 20/30.
    # 2020: Carl 149, the pool's 3.5 GB on 1 GB (3 GB started × 49), the order 2 × 99.50.
    expected = {g2010.pk: D("74.50") + D("149.50") + D("49.67") + D("149.00") + D("32.67"),
                g2020.pk: D("149.00") + D("147.00") + D("199.00")}
    assert after == expected == before
    assert after == {group_id: invoiced[(NOV, group_id)] for group_id in (g2010.pk, g2020.pk)}
    assert sum(invoiced.values()) == sum(InvoiceLine.objects.values_list("net_amount", flat=True))
    assert invoiced[(NOV, None)] == D("149.00")  # Eva, in no group
    assert not InvoiceLine.objects.filter(subscription__in=[bent, carl], kind="usage").exists()  # the pool's


def test_before_the_invoice_the_estimate_pro_rates_and_counts_usage_beyond_the_pool(company, plans):
    basic, _bigger = plans
    group = make_group(make_category(company), "2010")
    shared, other = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    _join(group, DEC, account=shared)
    with at(date(2026, 12, 10)):
        frank = SubscriptionFactory(company=company, account=shared, plan=basic)  # started today: 22 of 31 days
    hana = _line(shared, basic, "Hana")
    gus = _line(other, basic, "Gus")  # its own group; cancelled on the 5th
    _join(group, DEC, subscription=gus)
    Subscription.objects.filter(pk=gus.pk).update(status=Subscription.Status.TERMINATED)
    event = SubscriptionEvent.objects.create(company=company, subscription=gus, action="cancel")
    SubscriptionEvent.objects.filter(pk=event.pk).update(at=noon(date(2026, 12, 5)))
    _line(other, basic, "Ida")  # not in the group
    pool = UsagePool.objects.create(company=company, account=shared, name="Fælles", data_gb=3)
    for line in (frank, hana):
        UsagePoolMember.objects.create(company=company, pool=pool, subscription=line)
    _used(frank, DEC, 1.5)
    _used(hana, DEC, 1)

    fees = D("105.74") + D("149.00") + D("19.23")  # 149 × 22/31, 149, 149 × 4/31
    with at(date(2026, 12, 10)):
        assert budgets.group_estimate(group=group) == fees  # 2.5 GB of the pool's 3: nothing to pay
        _used(frank, DEC, 2.5)  # on his own 1 GB plan that would be 2 GB beyond; the pool: 1 GB beyond
        assert budgets.group_estimate(group=group) == fees + D("49.00")
        assert budgets.group_estimates(groups=[group]) == {group.pk: fees + D("49.00")}
