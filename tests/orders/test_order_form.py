"""The order form: drafts, sending, the prefilled address, bad input that writes nothing, one order per form."""

import uuid

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.services import OrderRefused, employee_suggestions, order_save
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _save(shop, submit=False, membership=None, **changes):
    data = shop.data(**changes)
    return order_save(membership=membership or shop.orderer, data=data, idempotency_key=data["idempotency_key"],
                      submit=submit)


def test_save_as_draft_keeps_it_editable_and_sends_nothing(shop):
    order, created = _save(shop)
    assert created and order.status == Order.Status.DRAFT
    assert (order.account, order.subscription, order.employee_name) == (shop.account, shop.subscription, "Karen Blixen")
    assert order.unit_price == shop.product.price and order.area == "mobile"
    assert not OutboxMessage.objects.exists()
    changed, _ = order_save(membership=shop.orderer, data=shop.data(quantity=5), idempotency_key=uuid.uuid4(),
                            submit=False, order_id=order.pk)
    assert changed.pk == order.pk and changed.quantity == 5 and changed.version == 2
    assert list(order.events.values_list("kind", flat=True)) == ["created", "edited"]


def test_without_a_chain_approve_and_send_goes_straight_to_the_operator(shop):
    order, _ = _save(shop, submit=True)
    assert order.status == Order.Status.RECEIVED and order.submitted_at is not None
    assert order.submitted_copy["product"] == "SIM-kort" and order.submitted_copy["quantity"] == 2
    assert OutboxMessage.objects.filter(recipient=shop.orderer.user.email).count() == 1  # status e-mail


def test_a_sent_order_cannot_be_changed(shop):
    order, _ = _save(shop, submit=True)
    with pytest.raises(OrderRefused):
        order_save(membership=shop.orderer, data=shop.data(), idempotency_key=uuid.uuid4(), submit=False,
                   order_id=order.pk)


def test_for_a_new_user_the_account_is_chosen_among_the_logins_own(shop):
    order, _ = _save(shop, for_new_user=True, subscription=None, employee_name="Ny Medarbejder", account=shop.account.pk)
    assert order.for_new_user and order.subscription is None and order.account == shop.account


@pytest.mark.parametrize(("changes", "field"), [
    ({"quantity": 0}, "quantity"),
    ({"quantity": 10_000}, "quantity"),
    ({"delivery_postal_code": "21000"}, "delivery_postal_code"),
    ({"delivery_postal_code": "ABCD"}, "delivery_postal_code"),
    ({"subscription": None}, "subscription"),
])
def test_bad_input_is_refused_with_a_message_and_writes_nothing(shop, changes, field):
    with pytest.raises(OrderRefused) as refused:
        _save(shop, submit=True, **changes)
    assert field in refused.value.message_dict
    assert not Order.objects.exists() and not OrderEvent.objects.exists() and not OutboxMessage.objects.exists()


def test_a_withdrawn_product_is_refused(shop):
    shop.product.active = False
    shop.product.save()
    for submit in (True, False):  # sent, or only saved as a draft
        with pytest.raises(OrderRefused) as refused:
            _save(shop, submit=submit)
        assert "no longer be ordered" in str(refused.value.message_dict["product"])
    assert not Order.objects.exists()


def test_an_employee_outside_the_logins_scope_is_refused(shop):
    restricted = make_member(shop.company, permissions={"orders.order"}, accounts=[BillingAccountFactory(company=shop.company)])
    with pytest.raises(OrderRefused) as refused:
        _save(shop, membership=restricted)
    assert "subscription" in refused.value.message_dict
    other = SubscriptionFactory(company=CompanyFactory())
    with pytest.raises(OrderRefused):
        _save(shop, subscription=other.pk)
    with pytest.raises(OrderRefused):  # nor another company's account for a new user
        _save(shop, for_new_user=True, subscription=None, employee_name="X", account=other.account_id)
    assert not Order.objects.exists()


def test_swedish_postal_codes_are_checked_and_written_as_nnn_nn():
    from tests.orders.conftest import Shop

    shop = Shop(CompanyFactory(country="SE", registration_number="5566778899", postal_code="11351"))
    order, _ = _save(shop, delivery_postal_code="11351")
    assert order.delivery_postal_code == "113 51"
    with pytest.raises(OrderRefused):
        _save(shop, delivery_postal_code="2100")


def test_the_same_form_sent_twice_makes_one_order(shop):
    data = shop.data()
    first, created = order_save(membership=shop.orderer, data=data, idempotency_key=data["idempotency_key"], submit=True)
    again, created_again = order_save(membership=shop.orderer, data=data, idempotency_key=data["idempotency_key"],
                                      submit=True)
    assert created and not created_again and again.pk == first.pk
    assert Order.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_the_page_prefills_the_delivery_address_and_a_double_post_makes_one_order(shop):
    shop.company.delivery_street, shop.company.delivery_postal_code, shop.company.delivery_city = "Lagervej 3", "2600", "Glostrup"
    shop.company.save()
    client = verified_client(shop.orderer.user)
    page = client.get(reverse("orders:create")).content.decode()
    assert 'value="Lagervej 3"' in page and 'value="2600"' in page and 'role="combobox"' in page
    data = shop.post_data(action="submit")
    first = client.post(reverse("orders:create"), data)
    second = client.post(reverse("orders:create"), data)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.status == Order.Status.RECEIVED


def test_the_main_address_is_used_without_a_delivery_address(shop):
    page = verified_client(shop.orderer.user).get(reverse("orders:create")).content.decode()
    assert f'value="{shop.company.street}"' in page


def test_bad_input_on_the_page_shows_the_message_beside_the_field(shop):
    client = verified_client(shop.orderer.user)
    response = client.post(reverse("orders:create"), shop.post_data(quantity=10_000, delivery_postal_code="123"))
    html = response.content.decode()
    assert response.status_code == 200 and "Enter a quantity from 1 to 999" in html
    assert "Danish postal code" in html and not Order.objects.exists()


def test_suggestions_come_from_the_subscriptions_the_login_may_see(shop):
    outside = BillingAccountFactory(company=shop.company)
    SubscriptionFactory(company=shop.company, account=outside, employee_name="Karen Hidden")
    SubscriptionFactory(company=CompanyFactory(), employee_name="Karen Foreign")
    restricted = make_member(shop.company, permissions={"orders.order"}, accounts=[shop.account])
    assert [s.employee_name for s in employee_suggestions(membership=restricted, text="kar")] == ["Karen Blixen"]
    assert len(employee_suggestions(membership=shop.orderer, text="kar")) == 2
    client = verified_client(restricted.user)
    html = client.get(reverse("orders:employee_suggestions"), {"employee_search": "Kar"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert 'role="option"' in html and "Karen Blixen" in html and "Hidden" not in html and "Foreign" not in html


def test_suggestions_cost_the_same_few_queries_however_many_match(shop, django_assert_max_num_queries):
    for index in range(30):
        SubscriptionFactory(company=shop.company, account=shop.account, employee_name=f"Karen {index}")
    client = verified_client(shop.orderer.user)
    with django_assert_max_num_queries(8):
        client.get(reverse("orders:employee_suggestions"), {"employee_search": "kar"})


def test_a_draft_whose_product_was_withdrawn_meanwhile_cannot_be_sent(shop):
    from orders.services import order_submit

    order, _ = _save(shop)
    shop.product.active = False
    shop.product.save()
    with pytest.raises(OrderRefused) as refused:
        order_submit(membership=shop.orderer, order_id=order.pk)
    assert "product" in refused.value.message_dict
    assert Order.objects.get(pk=order.pk).status == Order.Status.DRAFT and not OutboxMessage.objects.exists()


def test_the_employee_page_starts_an_order_for_that_employee(shop):
    client = verified_client(shop.orderer.user)
    page = client.get(reverse("subscriptions:detail", args=[shop.subscription.pk])).content.decode()
    link = f'{reverse("orders:create")}?subscription={shop.subscription.pk}'
    assert link in page
    form = client.get(link).content.decode()
    assert f'name="subscription" value="{shop.subscription.pk}"' in form and 'value="Karen Blixen"' in form
    other = SubscriptionFactory(company=CompanyFactory())  # another company's: an empty form, nothing shown
    assert other.employee_name not in client.get(f'{reverse("orders:create")}?subscription={other.pk}').content.decode()
