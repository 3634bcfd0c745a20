"""``{% line_groups subscription %}`` / ``{% line_groups account %}``: a line's groups over time, for its page."""

from django import template
from django.urls import reverse

from accounts.permissions import Permission
from groups.months import this_month
from groups.selectors import line_memberships
from subscriptions.models import Subscription

register = template.Library()


@register.inclusion_tag("groups/line_groups_summary.html", takes_context=True)
def line_groups(context, line):
    membership = context["request"].tenant.membership
    is_subscription = isinstance(line, Subscription)
    rows = (line_memberships(membership=membership, subscription=line) if is_subscription
            else line_memberships(membership=membership, account=line))
    month = this_month()
    for row in rows:
        row.inherited = is_subscription and row.subscription_id is None
        row.now = row.period.lower <= month and (row.period.upper is None or month < row.period.upper)
        row.ahead = row.period.lower > month
    return {
        "memberships": rows,
        "can_manage": membership.has_permission(Permission.MANAGE_GROUPS),
        "groups_url": reverse("groups:subscription" if is_subscription else "groups:account", args=[line.pk]),
    }
