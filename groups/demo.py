"""Demo groups for ``manage.py seed_demo``: a "Cost centre" and an "Office" category with a few groups,
the lines spread over them from this month, and one move next month. Idempotent: a company that has
group categories already is left as it is."""

from groups.models import Group, GroupCategory, GroupMembership
from groups.months import month_after, this_month
from groups.services import period_range
from subscriptions.models import BillingAccount, Subscription

CATEGORIES = [
    ("Cost centre", "Where the cost is booked", [("2010", "Sales"), ("2020", "Service"), ("2030", "Management")]),
    ("Office", "Where the employee sits", [("Copenhagen", ""), ("Aarhus", "")]),
]


def demo_ensure(companies) -> int:
    """Returns how many companies got groups now."""
    made = 0
    for company in companies:
        if GroupCategory.objects.filter(company=company).exists():
            continue
        groups = {}
        for name, description, members in CATEGORIES:
            category = GroupCategory.objects.create(company=company, name=name, description=description)
            groups[name] = [Group.objects.create(company=company, category=category, name=group, description=text)
                            for group, text in members]
        month = this_month()
        lines = list(Subscription.objects.filter(company=company).order_by("pk"))
        rows = []
        for index, line in enumerate(lines):
            centre = groups["Cost centre"][index % 3]
            if index == 0 and len(lines) > 1:
                # The move: from next month the first line changes cost centre by itself.
                rows.append(GroupMembership(company=company, category=centre.category, group=centre, subscription=line,
                                            period=period_range(month, month)))
                after = groups["Cost centre"][1]
                rows.append(GroupMembership(company=company, category=after.category, group=after, subscription=line,
                                            period=period_range(month_after(month), None)))
            else:
                rows.append(GroupMembership(company=company, category=centre.category, group=centre, subscription=line,
                                            period=period_range(month, None)))
        for index, account in enumerate(BillingAccount.objects.filter(company=company).order_by("number")):
            office = groups["Office"][index % 2]
            rows.append(GroupMembership(company=company, category=office.category, group=office, account=account,
                                        period=period_range(month, None)))
        GroupMembership.objects.bulk_create(rows)
        made += 1
    return made
