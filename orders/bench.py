"""The orders' part of the benchmark data set (``manage.py seed_bench``, selfcare.bench.data).

The big company gets ``count`` orders (spread over its accounts, statuses and two years) with five
timeline events each, and a two-step mobile chain whose first approver is the bench Superuser, so
that some of the orders wait for it.
"""

import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from orders.catalogue import products_ensure
from orders.models import ApprovalChain, ApprovalChainMember, Order, OrderApproval, OrderEvent

DEFAULT_ORDERS = 5_000
EVENTS_PER_ORDER = 5
STATUSES = [Order.Status.DRAFT, Order.Status.AWAITING_APPROVAL, Order.Status.RECEIVED, Order.Status.IN_PROGRESS,
            Order.Status.SHIPPED, Order.Status.COMPLETED, Order.Status.REJECTED]


def bench_orders_seed(*, company, accounts, superuser, rng: random.Random, count: int = DEFAULT_ORDERS,
                      bulk_insert) -> dict[str, int]:
    products = products_ensure()
    chain = ApprovalChain.objects.create(company=company, area="mobile")
    ApprovalChainMember.objects.create(company=company, chain=chain, position=1, approver=superuser)
    now = datetime.now(tz=UTC).timestamp()
    orders = []
    for index in range(count):
        product = products[index % len(products)]
        status = STATUSES[index % len(STATUSES)]
        if status == Order.Status.AWAITING_APPROVAL and product.area != "mobile":
            status = Order.Status.RECEIVED
        created = datetime.fromtimestamp(now - rng.random() * 2 * 365 * 86400, tz=UTC)
        orders.append(Order(
            company=company, account=accounts[index % len(accounts)], product=product, area=product.area,
            quantity=rng.randint(1, 20), unit_price=product.price or Decimal("0"),
            employee_name=f"Bench Medarbejder {index:05d}", delivery_street="Storkundevej 1",
            delivery_postal_code="8000", delivery_city="Aarhus C", contact_name="Bench Kontakt",
            contact_email="kontakt@storkunde.example", status=status, idempotency_key=uuid.uuid4(),
            created_by=superuser, created_at=created, submitted_at=created, status_changed_at=created,
        ))
    Order.objects.bulk_create(orders, batch_size=2000)
    # auto_now_add overwrote created_at: put the spread back.
    events, waiting = [], []
    for order in orders:
        for step in range(EVENTS_PER_ORDER):
            events.append(OrderEvent(company=company, subject=order, at=order.submitted_at, actor=superuser,
                                     actor_label=superuser.full_name, from_status="draft",
                                     to_status=order.status, kind="created" if step == 0 else ""))
        if order.status == Order.Status.AWAITING_APPROVAL:
            waiting.append(OrderApproval(
                company=company, order=order, position=1, approver=superuser, approver_label=superuser.full_name,
                order_version=order.version, chain_version=chain.version, token_hash=uuid.uuid4().hex,
                expires_at=order.submitted_at,
            ))
    written = bulk_insert(OrderEvent, events)
    OrderApproval.objects.bulk_create(waiting, batch_size=2000)
    from django.db.models import F

    Order.objects.filter(company=company).update(created_at=F("submitted_at"))
    return {"orders": len(orders), "order_events": written, "orders_awaiting": len(waiting)}
