"""Approval chains (a Superuser's, per product area) and an order's way through them, by e-mail."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.permissions import Role
from orders.models import ApprovalChain, ApprovalChainMember, Order, OrderApproval
from orders.services import OrderRefused, awaiting_my_approval, chain_change, order_decide, order_save, order_withdraw
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def chain(shop, *approvers, area="mobile"):
    boss = shop.superuser()
    for approver in approvers:
        chain_change(membership=boss, area=area, action="add", approver_id=approver.user_id)
    return boss


def submit(shop, **changes):
    data = shop.data(**changes)
    order, _ = order_save(membership=shop.orderer, data=data, idempotency_key=data["idempotency_key"], submit=True)
    return order


def mails_to(membership):
    return list(OutboxMessage.objects.filter(recipient=membership.user.email).order_by("pk"))


def link_in(message) -> str:
    return re.search(r"https://selfcare\.example\.com(/orders/link/[^/\s]+/)", message.body).group(1)


def step_of(order):
    return OrderApproval.objects.get(order=order, status=OrderApproval.Status.PENDING)


# The chain ------------------------------------------------------------------------------------------

def test_a_superuser_adds_at_the_end_replaces_at_a_position_and_removes_only_from_the_bottom(shop):
    first, second, third = shop.approver(), shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    positions = lambda: list(ApprovalChainMember.objects.filter(chain__area="mobile").order_by("position")  # noqa: E731
                             .values_list("position", "approver_id"))
    assert positions() == [(1, first.user_id), (2, second.user_id)]
    chain_change(membership=boss, area="mobile", action="replace", position=1, approver_id=third.user_id)
    assert positions() == [(1, third.user_id), (2, second.user_id)]
    with pytest.raises(OrderRefused, match="Only the last approver"):
        chain_change(membership=boss, area="mobile", action="remove", position=1)
    chain_change(membership=boss, area="mobile", action="remove", position=2)
    assert positions() == [(1, third.user_id)]
    assert ApprovalChain.objects.get(area="mobile").version == 5  # every edit is a new version


def test_a_chain_has_at_most_five_approvers_each_holding_approve_orders(shop):
    approvers = [shop.approver() for _ in range(6)]
    boss = chain(shop, *approvers[:5])
    with pytest.raises(OrderRefused, match="at most 5"):
        chain_change(membership=boss, area="mobile", action="add", approver_id=approvers[5].user_id)
    with pytest.raises(OrderRefused, match="Approve orders"):  # the orderer does not hold it
        chain_change(membership=boss, area="data", action="add", approver_id=shop.orderer.user_id)
    foreign = make_member(CompanyFactory(), role=Role.APPROVER)
    with pytest.raises(OrderRefused):
        chain_change(membership=boss, area="data", action="add", approver_id=foreign.user_id)
    with pytest.raises(OrderRefused, match="already in the chain"):
        chain_change(membership=boss, area="mobile", action="replace", position=1, approver_id=approvers[1].user_id)
    assert ApprovalChainMember.objects.count() == 5


def test_only_a_login_who_manages_the_company_edits_a_chain(shop):
    admin = make_member(shop.company, role=Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        chain_change(membership=admin, area="mobile", action="add", approver_id=shop.approver().user_id)


def test_the_chains_page_edits_a_chain(shop):
    approver = shop.approver()
    boss = shop.superuser()
    client = verified_client(boss.user)
    response = client.post(reverse("orders:approval_chain_change"),
                           {"area": "mobile", "action": "add", "approver": approver.user_id})
    assert response.status_code == 302
    page = client.get(reverse("orders:approval_chains")).content.decode()
    assert approver.user.full_name in page and "Remove" in page
    refused = client.post(reverse("orders:approval_chain_change"),
                          {"area": "mobile", "action": "add", "approver": shop.orderer.user_id})
    assert "Approve orders" in refused.content.decode() and ApprovalChainMember.objects.count() == 1


# The order's way -------------------------------------------------------------------------------------

def test_with_a_chain_the_first_approver_gets_a_link_then_the_next_then_the_operator(shop):
    first, second = shop.approver(), shop.approver()
    chain(shop, first, second)
    order = submit(shop)
    assert order.status == Order.Status.AWAITING_APPROVAL
    [mail] = mails_to(first)
    assert "awaits your approval" in mail.subject and link_in(mail)
    assert not mails_to(second)
    assert list(awaiting_my_approval(membership=first)) == [order]

    order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_APPROVAL and step_of(order).approver == second.user
    assert len(mails_to(second)) == 1 and not list(awaiting_my_approval(membership=first))

    order_decide(membership=second, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert [e.kind or e.to_status for e in order.events.order_by("at", "pk")] == [
        "created", "approval_requested", "approved", "received"]
    assert "Received by the operator" in mails_to(shop.orderer)[-1].body


def test_a_rejection_needs_a_reason_stops_the_order_and_tells_the_creator(shop):
    first, second = shop.approver(), shop.approver()
    chain(shop, first, second)
    shop.company.status_emails = False  # the creator is told of a rejection whatever the setting
    shop.company.save()
    order = submit(shop)
    with pytest.raises(OrderRefused):
        order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=False, reason=" ")
    order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=False,
                 reason="Not in the budget")
    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED and order.rejection_reason == "Not in the budget"
    [mail] = mails_to(shop.orderer)
    assert "rejected" in mail.subject and "Not in the budget" in mail.body
    assert not mails_to(second)


def test_a_chain_applies_only_to_its_product_area(shop):
    chain(shop, shop.approver(), area="data")
    assert submit(shop).status == Order.Status.RECEIVED


def test_only_the_approver_asked_can_decide(shop):
    first, other = shop.approver(), shop.approver()
    chain(shop, first)
    order = submit(shop)
    with pytest.raises(OrderRefused, match="not the approver"):
        order_decide(membership=other, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    assert Order.objects.get(pk=order.pk).status == Order.Status.AWAITING_APPROVAL


def test_the_overview_of_orders_counts_what_awaits_my_approval(shop):
    first = shop.approver()
    chain(shop, first)
    submit(shop)
    submit(shop)
    page = verified_client(first.user).get(reverse("orders:awaiting")).content.decode()
    assert '<span class="badge">2</span>' in page
    assert verified_client(first.user).get(reverse("overview")).content.decode().count("Awaiting my approval") >= 1


def test_the_approver_decides_on_the_order_page(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    client = verified_client(first.user)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Your decision" in page
    response = client.post(reverse("orders:decide", args=[order.pk]),
                           {"step": step_of(order).pk, "version": order.version, "decision": "reject", "reason": ""})
    assert "Give a reason" in response.content.decode()
    response = client.post(reverse("orders:decide", args=[order.pk]),
                           {"step": step_of(order).pk, "version": order.version, "decision": "approve", "reason": ""})
    assert response.status_code == 302 and Order.objects.get(pk=order.pk).status == Order.Status.RECEIVED
    again = client.post(reverse("orders:decide", args=[order.pk]),
                        {"step": OrderApproval.objects.get(order=order).pk, "version": order.version,
                         "decision": "approve"}, follow=True)
    assert "already been decided" in again.content.decode()


def test_taking_an_order_back_to_draft_supersedes_the_waiting_step(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    order_withdraw(membership=shop.orderer, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT
    assert OrderApproval.objects.get(order=order).superseded_because == "order_changed"
    assert not list(awaiting_my_approval(membership=first))


# The chain changes while an order waits -----------------------------------------------------------------

def test_replacing_the_waiting_approver_hands_the_order_to_the_new_one(shop):
    first, second, stand_in = shop.approver(), shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    order = submit(shop)
    chain_change(membership=boss, area="mobile", action="replace", position=1, approver_id=stand_in.user_id)
    old = OrderApproval.objects.get(order=order, approver=first.user)
    assert old.status == "superseded" and old.superseded_because == "chain_changed"
    assert step_of(order).approver == stand_in.user and len(mails_to(stand_in)) == 1
    with pytest.raises(OrderRefused, match="no longer asked"):
        order_decide(membership=first, order_id=order.pk, step_id=old.pk, approve=True)


def test_removing_the_waiting_last_approver_sends_the_order_on_to_the_operator(shop):
    first, second = shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    order = submit(shop)
    order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    chain_change(membership=boss, area="mobile", action="remove", position=2)
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert not OrderApproval.objects.filter(order=order, status="pending").exists()


def test_an_approver_who_lost_the_permission_cannot_decide(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    first.role, first.permissions = Role.READ_ONLY, ["subscriptions.view"]
    first.save()
    with pytest.raises(OrderRefused, match="no longer hold the permission"):
        order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    assert Order.objects.get(pk=order.pk).status == Order.Status.AWAITING_APPROVAL


def test_a_removed_approver_cannot_decide(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    first.is_active = False
    first.save()
    with pytest.raises(OrderRefused):
        order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    assert Order.objects.get(pk=order.pk).status == Order.Status.AWAITING_APPROVAL


def test_awaiting_my_approval_lists_only_this_companys_orders_waiting_for_me(shop):
    from tests.orders.conftest import Shop

    mine, colleague = shop.approver(), shop.approver()
    chain(shop, mine)
    waiting = submit(shop, employee_name="ignored")
    other = Shop(CompanyFactory())
    # The same login in another company, with an order waiting for it there too.
    from tests.factories import MembershipFactory

    MembershipFactory(user=mine.user, company=other.company, role=Role.APPROVER)
    boss = other.superuser()
    chain_change(membership=boss, area="mobile", action="add", approver_id=mine.user_id)
    foreign = submit(other)
    client = verified_client(mine.user)
    session = client.session
    session[SESSION_COMPANY_KEY] = shop.company.pk
    session.save()
    page = client.get(reverse("orders:awaiting")).content.decode()
    assert reverse("orders:detail", args=[waiting.pk]) in page
    assert reverse("orders:detail", args=[foreign.pk]) not in page
    assert reverse("orders:detail", args=[waiting.pk]) not in verified_client(colleague.user).get(
        reverse("orders:awaiting")).content.decode()
