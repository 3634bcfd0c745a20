"""Budgets (beyond the seeds): a monthly budget per group, the month's estimate from usage so far, and
e-mails once at 80 % and once at 100 %.

The estimate of a month before its invoice exists: for every line in the group that month (its own
group, else its account's; terminated lines left out), the full month's fee of its plan and add-ons
and the charges for its usage so far beyond the plan's allowances, with the invoices' own pricing
functions (``invoices.pricing``), excl. VAT.

Each alert is a ``BudgetAlert`` row (unique per group, month and threshold) written in the same
transaction as its e-mails in the outbox: however often the check runs, also twice at once, each
threshold is e-mailed once.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from groups.models import BudgetAlert, Group
from groups.months import format_month, this_month
from groups.selectors import subscriptions_in_groups
from groups.services import superuser_recipients
from invoices.pricing import monthly_fee, usage_charges
from selfcare.outbox.services import outbox_enqueue_email
from subscriptions.models import Subscription, UsageRecord

THRESHOLDS = (80, 100)


@dataclass
class BudgetStatus:
    budget: Decimal
    estimate: Decimal
    percent: int
    month: date


def _add_on_fees():
    through = Subscription.add_ons.through
    return Subquery(through.objects.filter(subscription_id=OuterRef("pk")).values("subscription_id")
                    .annotate(total=Sum("addon__monthly_fee")).values("total")[:1],
                    output_field=DecimalField(max_digits=12, decimal_places=2))


def group_estimate(*, group: Group, month: date | None = None, lines=None) -> Decimal:
    """The month's estimated cost of the group's lines (excl. VAT), from usage so far."""
    month = month or this_month()
    lines = lines if lines is not None else Subscription.objects.filter(company_id=group.company_id)
    lines = subscriptions_in_groups(lines, [group], month=month).exclude(status=Subscription.Status.TERMINATED)
    usage = UsageRecord.objects.filter(subscription_id=OuterRef("pk"), period=month)
    rows = lines.annotate(
        add_on_total=_add_on_fees(),
        used_mb=Subquery(usage.values("data_mb")[:1]), used_minutes=Subquery(usage.values("voice_minutes")[:1]),
        used_sms=Subquery(usage.values("sms_count")[:1]),
    ).values_list("plan__monthly_fee", "add_on_total", "plan__data_gb", "plan__voice_minutes", "plan__sms_count",
                  "used_mb", "used_minutes", "used_sms")
    total = Decimal("0.00")
    for fee, add_ons, data_gb, voice, sms, used_mb, used_minutes, used_sms in rows.iterator(chunk_size=5000):
        total += monthly_fee(fee, [add_ons] if add_ons else [])
        for charge in usage_charges(data_mb=used_mb or 0, voice_minutes=used_minutes or 0, sms_count=used_sms or 0,
                                    data_gb_allowance=data_gb, voice_allowance=voice, sms_allowance=sms):
            total += charge.amount
    return total


def group_budget_status(*, membership, group: Group, month: date | None = None) -> BudgetStatus | None:
    """The budget against the estimate; only for a login that sees every line (a part would mislead)."""
    if not group.monthly_budget or not membership.all_accounts:
        return None
    month = month or this_month()
    estimate = group_estimate(group=group, month=month)
    percent = round(100 * estimate / group.monthly_budget) if group.monthly_budget else 0
    return BudgetStatus(budget=group.monthly_budget, estimate=estimate, percent=percent, month=month)


def budget_alerts_check(*, today: date | None = None) -> list[BudgetAlert]:
    """Every group with a budget: alert each threshold its estimate has passed this month, once."""
    month = this_month(today)
    sent = []
    for group in Group.objects.filter(monthly_budget__gt=0).select_related("category", "company"):
        estimate = group_estimate(group=group, month=month)
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
                _("The estimate counts the lines' monthly fees and their usage so far."),
                "",
                _("The lines in the group: %(link)s") % {"link": link},
            ])
        outbox_enqueue_email(to=email, subject=subject, body=body)
