"""Cost per group (item 6): per month and per category, the invoiced amounts (excl. VAT) per group.

An invoice line counts for the group its subscription was in during the invoice's month (its own group
of the category, else its account's); a line without a subscription (an order, a pool's overage)
counts for its account's group; a line in no group of the category shows as "No group". Amounts are
the invoice lines' net amounts less what credit notes credited of them, excl. VAT.

A credit note counts in the month of the invoice it corrects, for the group the credited line counted
for there, not in the month it was issued: a cost-centre owner reads a month as what that month's lines
really cost, so a wrong charge credited later shows as never having been charged, and a month's figure
does not go below zero because an old invoice was corrected. (A credit line without an invoice line,
a free-text credit, counts for the invoice's account's group in that month.) The figures of a month
can therefore still change after the month, until its invoices are no longer corrected.

One query, grouped in PostgreSQL; a restricted login sees its own accounts' invoices only.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _

from groups.models import Group, GroupCategory
from groups.months import add_months, format_month, months_between, parse_month, this_month
from selfcare.exports import Column

MONTHS_SHOWN = 12
NO_GROUP = None

# The invoice lines, less their credit lines (both in the invoice's month and in the group the line
# counted for there): two grouped parts added together.
COST_SQL = """
    SELECT period, group_id, SUM(amount) FROM (
        SELECT i.period, COALESCE(own.group_id, acc.group_id) AS group_id, SUM(l.net_amount) AS amount
        FROM invoices_invoiceline l
        JOIN invoices_invoice i ON i.id = l.invoice_id
        LEFT JOIN groups_groupmembership own
            ON own.subscription_id = l.subscription_id AND own.category_id = %(category)s AND own.period @> i.period
        LEFT JOIN groups_groupmembership acc
            ON acc.account_id = i.account_id AND acc.category_id = %(category)s AND acc.period @> i.period
        WHERE i.company_id = %(company)s AND i.period >= %(first)s AND i.period <= %(last)s {scope}
        GROUP BY 1, 2
        UNION ALL
        SELECT i.period, COALESCE(own.group_id, acc.group_id), -SUM(c.net_amount)
        FROM invoices_creditnoteline c
        JOIN invoices_creditnote n ON n.id = c.credit_note_id
        JOIN invoices_invoice i ON i.id = n.invoice_id
        LEFT JOIN invoices_invoiceline l ON l.id = c.invoice_line_id
        LEFT JOIN groups_groupmembership own
            ON own.subscription_id = l.subscription_id AND own.category_id = %(category)s AND own.period @> i.period
        LEFT JOIN groups_groupmembership acc
            ON acc.account_id = i.account_id AND acc.category_id = %(category)s AND acc.period @> i.period
        WHERE c.company_id = %(company)s AND i.company_id = %(company)s AND i.period >= %(first)s
            AND i.period <= %(last)s {scope}
        GROUP BY 1, 2
    ) AS parts
    GROUP BY 1, 2
"""


@dataclass
class CostReport:
    category: GroupCategory | None
    categories: list
    months: list[date]
    first: date
    last: date
    rows: list[dict] = field(default_factory=list)  # {"label", "amounts": [per month], "total"}
    totals: list[Decimal] = field(default_factory=list)
    total: Decimal = Decimal("0")
    chart: list[dict] = field(default_factory=list)
    restricted: bool = False


def cost_amounts(*, membership, category, first: date, last: date) -> dict[tuple[date, int | None], Decimal]:
    """{(month, group id or None): net amount less credits} for the category's groups in the login's scope."""
    params = {"category": category.pk, "company": membership.company_id, "first": first, "last": last}
    scope = ""
    if not membership.all_accounts:
        params["scope"] = list(membership.accounts.values_list("pk", flat=True))
        scope = "AND i.account_id = ANY(%(scope)s)"
    with connection.cursor() as cursor:
        cursor.execute(COST_SQL.format(scope=scope), params)
        return {(period, group_id): amount for period, group_id, amount in cursor.fetchall()}


def cost_report(*, membership, params, category=None) -> CostReport:
    """``category``: the one chosen (checked by the caller), else the first."""
    categories = list(GroupCategory.objects.for_membership(membership).order_by("name", "pk"))
    if category is None:
        category = categories[0] if categories else None
    last = parse_month(params.get("until", "")) or add_months(this_month(), -1)
    first = add_months(last, -(MONTHS_SHOWN - 1))
    months = months_between(first, last)
    report = CostReport(category=category, categories=categories, months=months, first=first, last=last,
                        restricted=not membership.all_accounts)
    if category is None:
        return report
    amounts = cost_amounts(membership=membership, category=category, first=first, last=last)
    groups = list(Group.objects.filter(category=category).order_by("name", "pk"))
    labels = [(group.pk, group.name) for group in groups] + [(NO_GROUP, _("No group"))]
    by_group = defaultdict(dict)
    for (month, group_id), amount in amounts.items():
        by_group[group_id][month] = amount
    zero = Decimal("0.00")
    for group_id, label in labels:
        values = [by_group[group_id].get(month, zero) for month in months]
        if group_id is NO_GROUP and not any(values):
            continue
        report.rows.append({"group_id": group_id, "label": label, "amounts": values, "total": sum(values, zero)})
    report.totals = [sum((row["amounts"][index] for row in report.rows), zero) for index in range(len(months))]
    report.total = sum(report.totals, zero)
    biggest = max((row["total"] for row in report.rows), default=zero)
    from django.utils.formats import number_format

    report.chart = [{"label": row["label"], "percent": round(100 * row["total"] / biggest) if biggest else 0,
                     "text": number_format(row["total"], 2, force_grouping=True)} for row in report.rows]
    return report


def cost_report_rows(report: CostReport):
    """Columns and rows of the export: one row per group and month (easy to pivot), amounts as numbers."""
    columns = [
        Column(_("Category"), lambda row: row[0]), Column(_("Group"), lambda row: row[1]),
        Column(_("Month"), lambda row: row[2]), Column(_("Amount excl. VAT"), lambda row: row[3]),
    ]
    rows = [(report.category.name, row["label"], format_month(month), amount)
            for row in report.rows for month, amount in zip(report.months, row["amounts"], strict=True)]
    return columns, rows
