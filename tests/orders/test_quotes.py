"""Order or quote: a quote goes to the operator first, who prices it; the customer accepts it (then it is an
order, approved like any other) or declines it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from orders.services import OrderRefused, order_save, quote_accept, quote_decline, quote_price
from selfcare.outbox.models import OutboxMessage
from tests.conftest import verified_client
from tests.factories import StaffUserFactory
from tests.orders.test_approvals import chain, mails_to, step_of

pytestmark = pytest.mark.django_db


def ask_for_quote(shop):
    data = shop.data(is_quote=True, quantity=40)
    order, _ = order_save(membership=shop.orderer, data=data, idempotency_key=data["idempotency_key"], submit=True)
    return order


def test_a_quote_is_priced_by_staff_then_accepted_and_approved_like_an_order(shop):
    first = shop.approver()
    chain(shop, first)
    order = ask_for_quote(shop)
    assert order.status == Order.Status.QUOTE_REQUESTED and not mails_to(first)  # no approval yet
    staff = StaffUserFactory()
    quote_price(staff=staff, order_id=order.pk, unit_price=Decimal("39.00"), note="Volume price, valid 30 days")
    [offer] = mails_to(shop.orderer)
    assert "Quote received" in offer.subject and "39" in offer.body and "Volume price" in offer.body
    accepted = quote_accept(membership=shop.orderer, order_id=order.pk)
    assert accepted.status == Order.Status.AWAITING_APPROVAL and accepted.unit_price == Decimal("39.00")
    assert accepted.submitted_copy["unit_price"] == "39.00" and len(mails_to(first)) == 1
    assert step_of(accepted).approver == first.user


def test_a_declined_quote_is_history(shop):
    order = ask_for_quote(shop)
    quote_price(staff=StaffUserFactory(), order_id=order.pk, unit_price=Decimal("10"))
    declined = quote_decline(membership=shop.orderer, order_id=order.pk, reason="Too expensive")
    assert declined.status == Order.Status.QUOTE_DECLINED
    client = verified_client(shop.orderer.user)
    assert reverse("orders:detail", args=[order.pk]) in client.get(reverse("orders:history")).content.decode()
    with pytest.raises(OrderRefused):
        quote_accept(membership=shop.orderer, order_id=order.pk)


def test_an_unpriced_quote_cannot_be_accepted_and_staff_must_give_a_price(shop):
    order = ask_for_quote(shop)
    with pytest.raises(OrderRefused):
        quote_accept(membership=shop.orderer, order_id=order.pk)
    with pytest.raises(OrderRefused):
        quote_price(staff=StaffUserFactory(), order_id=order.pk, unit_price=None)
    assert Order.objects.get(pk=order.pk).status == Order.Status.QUOTE_REQUESTED


def test_the_quote_on_the_pages_and_in_the_back_office(shop):
    client = verified_client(shop.orderer.user)
    response = client.post(reverse("orders:create"), shop.post_data(action="submit", is_quote="on"))
    order = Order.objects.get()
    assert response.status_code == 302 and order.status == Order.Status.QUOTE_REQUESTED
    staff = verified_client(StaffUserFactory())
    page = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'value="quote_offered"' in page
    staff.post(reverse("admin:orders_order_move", args=[order.pk]),
               {"to": "quote_offered", "unit_price": "12.50", "reason": "Until March"})
    assert Order.objects.get(pk=order.pk).status == Order.Status.QUOTE_OFFERED
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Accept the quote" in page and "12" in page
    client.post(reverse("orders:quote_accept", args=[order.pk]))
    assert Order.objects.get(pk=order.pk).status == Order.Status.RECEIVED  # no chain: to the operator
    assert OutboxMessage.objects.filter(recipient=shop.orderer.user.email).count() == 2
