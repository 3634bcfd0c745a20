"""The overview, the page a login starts on: what needs attention, and the quick actions.

``overview_sections`` gathers every section the membership may see, each with a fixed number of
queries and a LIMIT, so the page costs the same for a company of 50 lines as for one of 500,000
(tests/accounts/test_overview.py counts them at two sizes). ``subscription_by_number`` finds the line
of the quick SIM swap and the PUK look-up, within the membership's scope.
"""

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission
from selfcare.global_search import search_query
from subscriptions.models import ChangeRequest
from subscriptions.services import ACTION_PERMISSIONS

# The employee page's rule for a SIM card change (subscriptions.services.ACTION_PERMISSIONS).
SIM_SWAP_PERMISSION = ACTION_PERMISSIONS[ChangeRequest.Action.CHANGE_SIM]
# How many rows a section shows before its "show more" link.
SHOWN = 5


class QuickActionRefused(ValidationError):
    """The quick action cannot be done as asked; the message says why. Nothing was written."""


def subscription_by_number(*, membership, number: str):
    """The one line (active or blocked) in the membership's scope with this whole number, or
    QuickActionRefused saying why not."""
    from subscriptions.models import Subscription

    digits = search_query(number).digits
    if len(digits) < 6:
        raise QuickActionRefused(_("Type the whole number of the line."))
    candidates = (Subscription.objects.for_membership(membership).exclude(status=Subscription.Status.TERMINATED)
                  .filter(number__icontains=digits).select_related("account").order_by("pk")[:20])
    # The stored forms differ ("+45 21234567", "+4521234567"): the whole national number must match.
    matches = [line for line in candidates if search_query(line.number).digits == digits]
    if not matches:
        raise QuickActionRefused(_("None of your active or blocked lines has this number."))
    if len(matches) > 1:
        raise QuickActionRefused(_("Several of your lines have this number: open the line from the subscription "
                                   "list instead."))
    return matches[0]


def _subscription_figures(membership) -> dict:
    from django.db.models import Sum

    from subscriptions.models import BillingAccount, Subscription, SubscriptionCount

    # The figures per status and type, summed over the scope's SubscriptionCount rows (at most accounts
    # × statuses × types), which the database keeps with every change of a line: exact on every visit,
    # nothing cached. Counting the lines instead took ~100 ms at 500,000 lines (an index-only scan).
    rows = (SubscriptionCount.objects.for_membership(membership).order_by().values_list("status", "type")
            .annotate(lines=Sum("count")))
    counts = {"total": 0, "active": 0, "blocked": 0}
    active_by_type = dict.fromkeys(Subscription.Type.values, 0)
    for status, type_, count in rows:
        counts["total"] += count
        counts[status] = counts.get(status, 0) + count
        if status == Subscription.Status.ACTIVE and type_ in active_by_type:
            active_by_type[type_] += count
    top = max([*active_by_type.values(), 1])
    return {
        "subscription_counts": counts,
        "subscription_types": [
            {"label": label, "count": active_by_type[value], "percent": round(100 * active_by_type[value] / top)}
            for value, label in Subscription.Type.choices
        ],
        "account_count": BillingAccount.objects.for_membership(membership).count(),
    }


def _awaiting_approval(membership) -> dict:
    from orders.services import awaiting_my_approval

    orders = list(awaiting_my_approval(membership=membership).select_related("product")
                  .order_by("created_at", "pk")[:SHOWN + 1])
    return {"awaiting_approval": orders[:SHOWN], "awaiting_approval_more": len(orders) > SHOWN}


def _cases(membership) -> dict:
    from tickets.models import SupportCase
    from tickets.selectors import open_cases

    company = membership.company
    mine = open_cases(company, user=membership.user, limit=SHOWN + 1, membership=membership)
    everyone = open_cases(company, limit=SHOWN + 1, membership=membership)
    for case in (*mine, *everyone):
        case.url = reverse("tickets:case_detail", args=[case.pk])
    return {
        "my_cases": mine[:SHOWN], "my_cases_more": len(mine) > SHOWN,
        "company_cases": everyone[:SHOWN], "company_cases_more": len(everyone) > SHOWN,
        "cases_waiting": [case for case in mine[:SHOWN] if case.status == SupportCase.Status.WAITING],
        "cases_url": reverse("tickets:index"),
        "can_create_case": membership.has_permission(Permission.CREATE_SUPPORT_CASES),
        "case_create_url": reverse("tickets:case_create"),
    }


def _notices(membership) -> dict:
    from tickets.models import OperationalNotice
    from tickets.selectors import active_notices

    notices = active_notices(membership.company)
    return {
        "disruptions": [notice for notice in notices if notice.kind != OperationalNotice.Kind.OPERATOR_MESSAGE],
        "operator_messages": [notice for notice in notices if notice.kind == OperationalNotice.Kind.OPERATOR_MESSAGE],
    }


def _unpaid_invoices(membership) -> dict:
    from invoices.selectors import invoice_notices

    # One aggregate over the company's (scoped) invoices: how many are open and overdue, and their sum.
    return {"invoice_notices": invoice_notices(membership)}


def overview_sections(*, membership) -> dict:
    """What the overview shows this membership: only the sections its permissions allow."""
    sections: dict = {
        "can_swap_sim": membership.has_permission(SIM_SWAP_PERMISSION),
        "can_look_up_puk": membership.has_permission(Permission.VIEW_PUK),
    }
    if membership.has_permission(Permission.VIEW_SUBSCRIPTIONS):
        sections.update(_subscription_figures(membership))
    if membership.has_permission(Permission.APPROVE_ORDERS):
        sections.update(_awaiting_approval(membership))
    if membership.has_permission(Permission.VIEW_INVOICES):
        sections.update(_unpaid_invoices(membership))
    # Every login of the company sees its cases (seed 004) and the operator's notices.
    sections.update(_cases(membership))
    sections.update(_notices(membership))
    return sections
