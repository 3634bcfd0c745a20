"""The operator's back office: products, and orders moved received → in progress → shipped → completed,
or rejected, each change e-mailed to the creator and the extra contact when the company wants it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from orders.models import Order, Product
from orders.services import OrderRefused, order_operator_move
from selfcare.outbox.models import OutboxMessage
from tests.conftest import verified_client
from tests.factories import StaffUserFactory
from tests.orders.test_approvals import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffUserFactory()


def mails(address):
    return list(OutboxMessage.objects.filter(recipient=address).order_by("pk"))


def test_staff_move_an_order_through_every_step_and_each_is_e_mailed(shop, staff):
    order = submit(shop, extra_contact_email="extra@example.com")
    creator = shop.orderer.user.email
    assert len(mails(creator)) == 1  # received
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.IN_PROGRESS)
    with pytest.raises(OrderRefused) as refused:
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.SHIPPED)
    assert "tracking_number" in refused.value.message_dict
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.SHIPPED, tracking_number="PDK123")
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.COMPLETED)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.tracking_number == "PDK123"
    assert [m.subject.split(": ")[-1] for m in mails(creator)] == [
        "Received by the operator", "In progress", "Shipped", "Completed"]
    assert "PDK123" in mails(creator)[2].body
    assert len(mails("extra@example.com")) == 4
    assert [e.to_status for e in order.events.order_by("at", "pk")][-3:] == ["in_progress", "shipped", "completed"]
    assert order.events.filter(actor=staff).count() == 3


def test_steps_cannot_be_skipped_or_repeated(shop, staff):
    order = submit(shop)
    with pytest.raises(ValidationError):  # a skipped step
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.COMPLETED)
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.IN_PROGRESS)
    with pytest.raises(ValidationError, match="changed meanwhile"):  # a repeated one (a stale page)
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.IN_PROGRESS)
    assert Order.objects.get(pk=order.pk).status == Order.Status.IN_PROGRESS


def test_a_rejection_needs_a_reason_and_tells_the_creator(shop, staff):
    order = submit(shop)
    with pytest.raises(OrderRefused):
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.REJECTED)
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.REJECTED, reason="Sold out")
    last = mails(shop.orderer.user.email)[-1]
    assert "rejected by the operator" in last.body and "Sold out" in last.body


def test_without_status_e_mails_nothing_is_sent(shop, staff):
    shop.company.status_emails = False
    shop.company.save()
    order = submit(shop, extra_contact_email="extra@example.com")
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.IN_PROGRESS)
    assert not OutboxMessage.objects.exists()


def test_only_staff_move_orders(shop):
    order = submit(shop)
    with pytest.raises(PermissionDenied):
        order_operator_move(staff=shop.orderer.user, order_id=order.pk, to=Order.Status.IN_PROGRESS)


def test_the_back_office_page_moves_the_order(shop, staff):
    order = submit(shop)
    client = verified_client(staff)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Move the order on" in page and 'value="in_progress"' in page
    response = client.post(reverse("admin:orders_order_move", args=[order.pk]), {"to": "in_progress"})
    assert response.status_code == 302 and Order.objects.get(pk=order.pk).status == Order.Status.IN_PROGRESS
    response = client.post(reverse("admin:orders_order_move", args=[order.pk]), {"to": "shipped"}, follow=True)
    assert "tracking number" in response.content.decode() and Order.objects.get(pk=order.pk).status == "in_progress"
    customer = verified_client(shop.orderer.user)
    assert customer.post(reverse("admin:orders_order_move", args=[order.pk]), {"to": "shipped"}).status_code in (302, 403)
    assert Order.objects.get(pk=order.pk).status == Order.Status.IN_PROGRESS


def test_staff_keep_the_products_and_withdraw_them(shop, staff):
    client = verified_client(staff)
    response = client.post(reverse("admin:orders_product_add"), {
        "name": "Router 5G", "description": "Wi-Fi 6", "price": "1495.00", "area": "data", "active": "on"})
    assert response.status_code == 302
    product = Product.objects.get(name="Router 5G")
    client.post(reverse("admin:orders_product_changelist"), {"action": "withdraw", "_selected_action": [product.pk]})
    product.refresh_from_db()
    assert not product.active
    form = verified_client(shop.orderer.user).get(reverse("orders:create")).content.decode()
    assert "Router 5G" not in form and "SIM-kort" in form
