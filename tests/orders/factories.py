import uuid
from decimal import Decimal

import factory

from orders.models import Order, Product
from tests.factories import SubscriptionFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"SIM-kort {n}")
    description = "Et SIM-kort"
    price = Decimal("49.00")
    area = "mobile"
    active = True


class OrderFactory(factory.django.DjangoModelFactory):
    """A draft order for an existing employee's subscription (in the given company and account)."""

    class Meta:
        model = Order

    class Params:
        subscription_account = None

    subscription = factory.LazyAttribute(lambda o: SubscriptionFactory(company=o.company, account=o.account))
    account = factory.SubFactory("tests.factories.BillingAccountFactory")
    company = factory.SelfAttribute("account.company")
    product = factory.SubFactory(ProductFactory)
    area = factory.SelfAttribute("product.area")
    unit_price = factory.SelfAttribute("product.price")
    quantity = 1
    employee_name = factory.LazyAttribute(lambda o: o.subscription.employee_name)
    delivery_street = "Testvej 1"
    delivery_postal_code = "2100"
    delivery_city = "København Ø"
    contact_name = "Orla Ordrer"
    contact_email = "orla@example.com"
    idempotency_key = factory.LazyFunction(uuid.uuid4)
