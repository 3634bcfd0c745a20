"""Demo changes for ``manage.py seed_demo``: a plan change awaiting the holding company's approver and a
draft change of an account's billing details. Idempotent (fixed form keys)."""

import uuid

from django.db import transaction

from accounts.models import Membership
from accounts.permissions import Role

DEMO_NAMESPACE = uuid.UUID("6f1d2a64-3c55-4d4e-9a8e-2f3c1b0d9e71")


def demo_ensure(companies) -> None:
    from orders.changes import change_save, change_subject
    from orders.models import Order
    from subscriptions.models import BillingAccount, PricePlan, Subscription

    company = companies["holding"]
    boss = (Membership.objects.select_related("user", "company")
            .filter(company=company, role=Role.SUPERUSER, is_active=True).order_by("pk").first())
    if boss is None:
        return
    keys = [uuid.uuid5(DEMO_NAMESPACE, f"{company.pk}-{n}") for n in (1, 2)]
    if Order.objects.filter(company=company, idempotency_key__in=keys).count() == len(keys):
        return
    contact = {"contact_name": boss.user.full_name, "contact_email": boss.user.email, "contact_method": "email"}
    line = (Subscription.objects.filter(company=company, type="mobile", status="active", plan__isnull=False)
            .select_related("plan").order_by("pk").first())
    with transaction.atomic():
        if line is not None:
            plan = (PricePlan.objects.filter(active=True, type=line.type).exclude(pk=line.plan_id)
                    .order_by("monthly_fee").first())
            if plan is not None:
                subject = change_subject(membership=boss, subject="subscription", pk=line.pk)
                change_save(membership=boss, subject=subject, kind="plan", idempotency_key=keys[0], submit=True,
                            data={**contact, "plan": plan.pk, "plan_when": "next_month"})
        account = (line.account if line is not None
                   else BillingAccount.objects.filter(company=company).order_by("number").first())
        if account is not None:
            change_save(membership=boss, subject=change_subject(membership=boss, subject="account", pk=account.pk),
                        kind="other", idempotency_key=keys[1], submit=False,
                        data={**contact, "area": "mobile",
                              "description": "Send the invoice for this account to our new accounts payable address."})
