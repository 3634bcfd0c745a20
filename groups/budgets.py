"""Budgets (beyond the seeds): a monthly budget per group, the month's estimate from usage so far, and
e-mails once at 80 % and once at 100 %.

The estimate is the billing run's own calculation, computed now and written nowhere
(``invoices.billing.billing_preview``): fees pro-rated by day for lines started, ended, moved or changed
plan or add-ons mid-month, a line still active charged to the month's end, usage so far beyond the plan's
allowances, a usage pool's overage once the pool is used up, one-off charges of completed orders. Its
lines count for a group as the cost report counts invoice lines (``groups.costs``): a line for its own
group of the category that month, else for its account's (a pool's overage and an order without a line:
the account's). So once the month is invoiced, the estimate is the group's invoiced amount, excl. VAT.

Each alert is a ``BudgetAlert`` row (unique per group, month and threshold) written in the same
transaction as its e-mails in the outbox: however often the check runs, also twice at once, each
threshold is e-mailed once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from groups.models import BudgetAlert, Group, GroupMembership
from groups.months import format_month, this_month
from groups.services import superuser_recipients
from invoices.billing import billing_preview
from selfcare.outbox.services import outbox_enqueue_email

THRESHOLDS = (80, 100)

# The preview's lines per group of one category (the cost report's rule, groups.costs.COST_SQL).
ESTIMATE_SQL = """
    SELECT COALESCE(own.group_id, acc.group_id), SUM(l.net_amount)
    FROM billing_lines l
    LEFT JOIN groups_groupmembership own
        ON own.subscription_id = l.subscription_id AND own.category_id = %(category)s AND own.period @> %(month)s
    LEFT JOIN groups_groupmembership acc
        ON acc.account_id = l.account_id AND acc.category_id = %(category)s AND acc.period @> %(month)s
    WHERE COALESCE(own.group_id, acc.group_id) = ANY(%(groups)s)
    GROUP BY 1
"""


@dataclass
class BudgetStatus:
    budget: Decimal
    estimate: Decimal
    percent: int
    month: date


def group_estimates(*, groups: list[Group], month: date | None = None) -> dict[int, Decimal]:
    """{group id: the month's estimated cost (excl. VAT)} of some groups of one company, from one preview
    of the billing run: of the accounts in the groups that month and the lines in them on their own."""
    month = month or this_month()
    if not groups:
        return {}
    members = GroupMembership.objects.filter(period__contains=month, group__in=groups).order_by()
    accounts = sorted({pk for pk in members.values_list("account_id", flat=True) if pk})
    subscriptions = sorted({pk for pk in members.values_list("subscription_id", flat=True) if pk})
    by_category = defaultdict(list)
    for group in groups:
        by_category[group.category_id].append(group.pk)
    estimates = {group.pk: Decimal("0.00") for group in groups}
    if not accounts and not subscriptions:
        return estimates
    with billing_preview(period=month, accounts=accounts, subscriptions=subscriptions) as cursor:
        for category_id, group_ids in by_category.items():
            cursor.execute(ESTIMATE_SQL, {"category": category_id, "month": month, "groups": group_ids})
            for group_id, amount in cursor.fetchall():
                estimates[group_id] = amount
    return estimates


def group_estimate(*, group: Group, month: date | None = None) -> Decimal:
    """The month's estimated cost of the group's lines (excl. VAT), as the billing run would charge it."""
    return group_estimates(groups=[group], month=month)[group.pk]


def group_budget_status(*, membership, group: Group, month: date | None = None) -> BudgetStatus | None:
    """The budget against the estimate; only for a login that sees every line (a part would mislead)."""
    if not group.monthly_budget or not membership.all_accounts:
        return None
    month = month or this_month()
    estimate = group_estimate(group=group, month=month)
    percent = round(100 * estimate / group.monthly_budget) if group.monthly_budget else 0
    return BudgetStatus(budget=group.monthly_budget, estimate=estimate, percent=percent, month=month)


def budget_alerts_check(*, today: date | None = None) -> list[BudgetAlert]:
    """Every group with a budget: alert each threshold its estimate has passed this month, once (one
    preview of the billing run per company)."""
    month = this_month(today)
    sent = []
    by_company = defaultdict(list)
    for group in Group.objects.filter(monthly_budget__gt=0).select_related("category", "company").order_by("pk"):
        by_company[group.company_id].append(group)
    for groups in by_company.values():
        estimates = group_estimates(groups=groups, month=month)
        for group in groups:
            sent.extend(_alerts_for(group=group, month=month, estimate=estimates[group.pk]))
    return sent


def _alerts_for(*, group, month, estimate) -> list[BudgetAlert]:
    sent = []
    for threshold in THRESHOLDS:
        if estimate * 100 < group.monthly_budget * threshold:
            continue
        alert = _alert_once(group=group, month=month, threshold=threshold, estimate=estimate)
        if alert is not None:
            sent.append(alert)
    return sent


def _alert_once(*, group, month, threshold, estimate) -> BudgetAlert | None:
    try:
        with transaction.atomic():
            alert = BudgetAlert.objects.create(company_id=group.company_id, group=group, month=month,
                                               threshold=threshold, estimate=estimate, budget=group.monthly_budget)
            _mail_alert(group=group, alert=alert)
    except IntegrityError:
        return None  # alerted already (an earlier run, or one running at the same time)
    return alert


def _mail_alert(*, group, alert):
    link = settings.SITE_URL.rstrip("/") + reverse("subscriptions:list") + "?" + urlencode({"groups": group.pk})
    recipients = dict(superuser_recipients(group.company_id))
    if group.contact_email:
        recipients.setdefault(group.contact_email, settings.LANGUAGE_CODE)
    for email, language in recipients.items():
        with translation.override(language or settings.LANGUAGE_CODE):
            values = {"group": group.label, "threshold": alert.threshold, "month": format_month(alert.month),
                      "estimate": f"{alert.estimate:.2f}", "budget": f"{alert.budget:.2f}"}
            subject = _("%(group)s has passed %(threshold)s %% of its budget for %(month)s") % values
            body = "\n".join([
                _("The estimated cost of %(group)s for %(month)s is %(estimate)s (excl. VAT), %(threshold)s %% or "
                  "more of its monthly budget of %(budget)s.") % values,
                _("The estimate is the month's invoice as it stands: the lines' fees for their days this month "
                  "and their usage so far beyond their plans and pools."),
                "",
                _("The lines in the group: %(link)s") % {"link": link},
            ])
        outbox_enqueue_email(to=email, subject=subject, body=body)
