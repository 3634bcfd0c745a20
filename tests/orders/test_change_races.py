"""Changes under races, on two database connections each held at the critical point (tests/concurrency.py):
the same change form sent twice at once makes one change; the change reaching the operator twice at
once asks the operator's systems once."""

import uuid

import pytest
from django.db import transaction

from orders.changes import change_reached_operator, change_save
from orders.models import Order
from subscriptions.models import ChangeRequest
from tests.concurrency import run_held_at
from tests.orders.test_changes_flow import Desk
from tests.orders.test_races import english

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(company):
    return Desk(company)


def test_the_same_change_form_sent_twice_at_once_makes_one_change(desk):
    key = uuid.uuid4()
    save = english(change_save, membership=desk.admin, subject=desk.subject(), kind="plan",
                   data=Desk.contact(plan=desk.plan_b.pk), idempotency_key=key, submit=True)
    run = run_held_at("orders.services.record_event", save, save)
    assert run.second_while_held == "lock", "the second request did not wait for the first one's change"
    first, second = run.first.value(), run.second.value()
    assert first[1] is True and second == (first[0], False)
    assert Order.objects.count() == 1 and ChangeRequest.objects.count() == 1


def test_reaching_the_operator_twice_at_once_asks_the_operators_systems_once(desk):
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk})
    Order.objects.filter(pk=order.pk).update(status=Order.Status.RECEIVED)

    def reach():
        with transaction.atomic():
            return change_reached_operator(Order.objects.get(pk=order.pk), actor=None).status

    run = run_held_at("subscriptions.services.provisioning_change", english(reach), english(reach))
    assert run.second_while_held == "lock", "the second did not wait for the first one's lock on the change"
    assert run.first.value() == Order.Status.IN_PROGRESS and run.second.ok
    assert ChangeRequest.objects.count() == 1
    assert Order.objects.get(pk=order.pk).change.change_request == ChangeRequest.objects.get()
