"""Races end in one consistent outcome that the loser is told about: two connections, each held at the
critical point (tests/concurrency.py). Never a duplicate, a skipped step or a 500."""

import uuid

import pytest
from django.db import transaction
from django.utils import translation

from accounts.models import Membership
from accounts.permissions import ROLE_PRESETS, Role
from accounts.services.users import Access, login_access_change
from orders.models import Order, OrderApproval, OrderEvent
from orders.services import OrderRefused, chain_change, order_decide, order_save
from selfcare.outbox.models import OutboxMessage
from tests.concurrency import run_held_at
from tests.orders.test_approvals import chain, mails_to, step_of, submit

pytestmark = pytest.mark.django_db(transaction=True)

# Every decision and every chain edit moves the order through the status machine after its checks and
# with its locks taken: each is held there.
AT_TRANSITION = "orders.services.transition"


def english(function, *args, **kwargs):
    def run():
        with translation.override("en"):
            return function(*args, **kwargs)
    return run


def held_point():
    """Where a test's own transaction is held (after its writes, before its commit)."""


def test_the_same_form_sent_twice_at_once_makes_one_order(shop):
    data = shop.data()
    save = english(order_save, membership=shop.orderer, data=data, idempotency_key=data["idempotency_key"],
                   submit=True)
    run = run_held_at("orders.services.record_event", save, save)
    assert run.second_while_held == "lock", "the second request did not wait for the first one's order"
    first, second = run.first.value(), run.second.value()
    assert first[1] is True and second == (first[0], False)
    assert Order.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_two_decisions_on_one_step_at_once_one_counts_the_other_is_told(shop):
    first, second = shop.approver(), shop.approver()
    chain(shop, first, second)
    order = submit(shop)
    step = step_of(order)
    approve = english(order_decide, membership=first, order_id=order.pk, step_id=step.pk, approve=True)
    reject = english(order_decide, membership=first, order_id=order.pk, step_id=step.pk, approve=False,
                     reason="No")
    run = run_held_at(AT_TRANSITION, approve, reject)
    assert run.second_while_held == "lock"
    assert run.first.ok and isinstance(run.second.error, OrderRefused)
    assert "already been decided" in run.second.error.messages[0]
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_APPROVAL and step_of(order).approver == second.user
    assert len(mails_to(second)) == 1 and not mails_to(shop.orderer)  # one next step, no rejection


def test_the_chain_edited_while_the_approver_decides_decision_first(shop):
    first, second, other = shop.approver(), shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    order = submit(shop)
    decide = english(order_decide, membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    edit = english(chain_change, membership=boss, area="mobile", action="replace", position=1,
                   approver_id=other.user_id)
    run = run_held_at(AT_TRANSITION, decide, edit)
    assert run.second_while_held == "lock" and run.first.ok and run.second.ok
    # The approval counted; the edit of position 1 no longer concerns the order, which waits for position 2.
    assert step_of(order).approver == second.user and not mails_to(other)
    assert OrderApproval.objects.filter(order=order).count() == 2


def test_the_chain_edited_while_the_approver_decides_edit_first(shop):
    first, second, other = shop.approver(), shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    order = submit(shop)
    step = step_of(order)
    edit = english(chain_change, membership=boss, area="mobile", action="replace", position=1,
                   approver_id=other.user_id)
    decide = english(order_decide, membership=first, order_id=order.pk, step_id=step.pk, approve=True)
    run = run_held_at(AT_TRANSITION, edit, decide)
    assert run.second_while_held == "lock" and run.first.ok
    assert isinstance(run.second.error, OrderRefused) and "no longer asked" in run.second.error.messages[0]
    assert step_of(order).approver == other.user and len(mails_to(other)) == 1
    assert not OrderApproval.objects.filter(order=order, status="approved").exists()  # no step skipped


def test_removing_the_waiting_approver_while_they_decide(shop):
    first = shop.approver()
    boss = chain(shop, first)
    order = submit(shop)
    remove = english(chain_change, membership=boss, area="mobile", action="remove", position=1)
    decide = english(order_decide, membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=False,
                     reason="Too expensive")
    run = run_held_at(AT_TRANSITION, remove, decide)
    assert run.second_while_held == "lock" and run.first.ok
    assert isinstance(run.second.error, OrderRefused)
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED  # no approver left: on to the operator, once
    assert OrderEvent.objects.filter(subject=order, to_status="received").count() == 1


def test_an_approver_who_loses_the_permission_while_deciding(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    boss = Membership.objects.filter(company=shop.company, role=Role.SUPERUSER).first()

    def demote():
        with translation.override("en"), transaction.atomic():
            login_access_change(actor_membership=boss, membership=first,
                                access=Access(frozenset(ROLE_PRESETS[Role.READ_ONLY]), all_accounts=True))
            held_point()

    decide = english(order_decide, membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    run = run_held_at("tests.orders.test_races.held_point", demote, decide)
    assert run.second_while_held == "lock", "the decision did not wait for the permission change"
    assert run.first.ok
    assert isinstance(run.second.error, OrderRefused)
    assert "no longer hold the permission" in run.second.error.messages[0]
    assert Order.objects.get(pk=order.pk).status == Order.Status.AWAITING_APPROVAL


def test_an_approver_removed_from_the_company_while_deciding(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)

    def remove():
        with transaction.atomic():
            Membership.objects.filter(pk=first.pk).delete()
            held_point()

    decide = english(order_decide, membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    run = run_held_at("tests.orders.test_races.held_point", remove, decide)
    assert run.second_while_held == "lock" and run.first.ok
    assert isinstance(run.second.error, OrderRefused)
    assert Order.objects.get(pk=order.pk).status == Order.Status.AWAITING_APPROVAL


__all__ = ["uuid"]
