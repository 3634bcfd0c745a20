"""Reads of the invoices area, always through a membership's scope (a miss is a 404)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404

from invoices import pricing
from invoices.models import CreditNote, Invoice, InvoiceLine, UsagePool
from subscriptions.models import UsageRecord


def invoices_visible(*, membership):
    return Invoice.objects.for_membership(membership)


def access_invoice(*, membership, pk: int) -> Invoice:
    """The invoice, if this membership may see it; Http404 for a missing and a foreign one alike."""
    return get_object_or_404(invoices_visible(membership=membership).select_related("account", "company"), pk=pk)


def access_credit_note(*, membership, pk: int) -> CreditNote:
    return get_object_or_404(
        CreditNote.objects.for_membership(membership).select_related("invoice", "invoice__account"), pk=pk)


def invoice_notices(membership) -> dict:
    """Unpaid invoices in the membership's scope, for the overview page's notices: the count and the
    amount (incl. VAT) of open and of overdue ones, and the currency (a company bills in one)."""
    figures = invoices_visible(membership=membership).aggregate(
        open_count=Count("pk", filter=Q(status=Invoice.Status.OPEN)),
        open_amount=Sum("gross_total", filter=Q(status=Invoice.Status.OPEN)),
        overdue_count=Count("pk", filter=Q(status=Invoice.Status.OVERDUE)),
        overdue_amount=Sum("gross_total", filter=Q(status=Invoice.Status.OVERDUE)),
    )
    from invoices.models import CURRENCY_BY_COUNTRY

    return {
        "open": {"count": figures["open_count"], "amount": figures["open_amount"] or Decimal("0.00")},
        "overdue": {"count": figures["overdue_count"], "amount": figures["overdue_amount"] or Decimal("0.00")},
        "currency": CURRENCY_BY_COUNTRY.get(membership.company.country, "DKK"),
        "any": bool(figures["open_count"] or figures["overdue_count"]),
    }


def months_back(period: date, count: int) -> list[date]:
    months = []
    year, month = period.year, period.month
    for _index in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def invoice_history(*, invoice: Invoice, months: int = 12) -> list[dict]:
    """This account's invoice amounts (incl. VAT) for the ``months`` months up to the invoice's: one row
    per month (None where there was no invoice), with the bar's length against the largest."""
    periods = months_back(invoice.period, months)
    amounts = dict(Invoice.objects.filter(account_id=invoice.account_id, period__gte=periods[0],
                                          period__lte=periods[-1]).values_list("period", "gross_total"))
    largest = max(amounts.values(), default=Decimal("0"))
    rows = []
    for period in periods:
        amount = amounts.get(period)
        percent = None if amount is None or not largest else round(float(amount / largest * 100), 1)
        rows.append({"period": period, "amount": amount, "percent": percent if percent is not None else 0,
                     "current": period == invoice.period})
    return rows


def invoice_summary(*, invoice) -> dict:
    """The invoice's charges by kind (what the specification sums) and its VAT per category (by the one
    rule, ``invoices.pricing``), from one pass over its lines."""
    rows = list(invoice.lines.values("kind", "vat_category", "vat_rate")
                .annotate(net=Sum("net_amount"), lines=Count("pk")).order_by())
    labels = dict(InvoiceLine.Kind.choices)
    kinds: dict[str, dict] = {}
    for row in rows:
        entry = kinds.setdefault(row["kind"], {"kind": row["kind"], "label": labels.get(row["kind"], row["kind"]),
                                               "net": Decimal("0.00"), "lines": 0})
        entry["net"] += row["net"]
        entry["lines"] += row["lines"]
    order = list(labels)
    return {
        "kinds": sorted(kinds.values(), key=lambda entry: order.index(entry["kind"]) if entry["kind"] in order else 99),
        "vat": pricing.vat_breakdown((row["vat_category"], row["vat_rate"], row["net"]) for row in rows),
    }


def usage_pools_for(*, membership, period: date, account=None) -> list[dict]:
    """The membership's usage pools: allowance, used this period, remaining, and the lines drawing on it."""
    pools = UsagePool.objects.for_membership(membership).select_related("account").order_by("account__number", "name")
    if account is not None:
        pools = pools.filter(account=account)
    pools = list(pools.annotate(members_count=Count("members")))
    used = dict(
        UsageRecord.objects.filter(period=period, subscription__usage_pools__in=pools)
        .values("subscription__usage_pools").annotate(mb=Sum("data_mb"))
        .values_list("subscription__usage_pools", "mb")
    )
    rows = []
    for pool in pools:
        used_mb = used.get(pool.pk, 0) or 0
        allowance_mb = pool.data_gb * pricing.MB_PER_GB
        rows.append({
            "pool": pool, "allowance_gb": pool.data_gb, "used_gb": round(used_mb / pricing.MB_PER_GB, 1),
            "remaining_gb": round(max(0, allowance_mb - used_mb) / pricing.MB_PER_GB, 1),
            "percent": min(100, round(100 * used_mb / allowance_mb, 1)) if allowance_mb else None,
            "members": pool.members_count,
        })
    return rows


def pool_members_by_pool(*, pools, limit: int = 2000) -> dict[int, list]:
    """The lines drawing on each of ``pools`` (one query; at most ``limit`` in all)."""
    from invoices.models import UsagePoolMember

    members: dict[int, list] = {pool.pk: [] for pool in pools}
    rows = (UsagePoolMember.objects.filter(pool__in=pools).select_related("subscription")
            .order_by("pool_id", "subscription__employee_name")[:limit])
    for member in rows:
        members[member.pool_id].append(member.subscription)
    return members
