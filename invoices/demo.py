"""Demo invoices for ``make run`` (``manage.py seed_demo``): twelve months issued by the real billing
run for the demo companies, with usage, a shared usage pool, paid ones, one overdue and one credited."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from invoices.billing import billing_run, invoices_mark_overdue
from invoices.models import Invoice, UsagePool, UsagePoolMember
from invoices.selectors import months_back
from invoices.services import credit_note_issue
from subscriptions.models import Subscription, UsageRecord

MONTHS = 12


def demo_ensure(companies, *, today: date | None = None) -> int:
    """Invoices for ``companies`` for the last twelve months; nothing if a company has some already."""
    today = today or timezone.localdate()
    companies = [company for company in companies if not Invoice.objects.filter(company=company).exists()]
    if not companies:
        return 0
    rng = random.Random(2026)
    periods = months_back(today.replace(day=1), MONTHS + 1)[:-1]  # the twelve months before this one
    issued = 0
    with transaction.atomic():
        for company in companies:
            lines = Subscription.objects.filter(company=company)
            # Billed since before the first demo month (the demo rows were all created today).
            lines.update(activated_on=periods[0] - timedelta(days=30))
            mobile = list(lines.filter(type=Subscription.Type.MOBILE, status=Subscription.Status.ACTIVE)
                          .order_by("pk"))
            UsageRecord.objects.bulk_create([
                UsageRecord(company=company, subscription=line, period=period, data_mb=rng.randint(200, 60_000),
                            voice_minutes=rng.randint(0, 1200), sms_count=rng.randint(0, 300))
                for line in mobile for period in periods
            ], ignore_conflicts=True)
            if len(mobile) >= 3:
                pool = UsagePool.objects.create(company=company, account=mobile[0].account, name="Fælles data 50 GB",
                                                data_gb=50)
                UsagePoolMember.objects.bulk_create([
                    UsagePoolMember(company=company, pool=pool, subscription=line)
                    for line in mobile if line.account_id == pool.account_id
                ][:4], ignore_conflicts=True)
        ids = [company.pk for company in companies]
        for period in periods:
            issue = (period + timedelta(days=32)).replace(day=1)
            issued += billing_run(period=period, company_ids=ids, issue_date=issue).invoices
        # Paid up to two months ago; the last month's are open; one from two months ago overdue.
        for company in companies:
            invoices = Invoice.objects.filter(company=company)
            invoices.filter(period__lt=periods[-2]).update(status=Invoice.Status.PAID, paid_at=timezone.now())
            invoices.filter(period=periods[-2]).exclude(
                pk__in=invoices.filter(period=periods[-2]).order_by("number").values("pk")[:1]
            ).update(status=Invoice.Status.PAID, paid_at=timezone.now())
            invoices.filter(period=periods[-2]).update(due_date=today - timedelta(days=3))
            credited = invoices.filter(period=periods[-3]).order_by("number").first()
            if credited is not None:
                credit_note_issue(invoice=credited, reason="Fejl i abonnementsprisen")
        invoices_mark_overdue(today=today)
    return issued
