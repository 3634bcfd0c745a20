import uuid

import pytest

from accounts.permissions import Permission, Role
from tests.conftest import make_member
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.orders.factories import ProductFactory


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://selfcare.example.com"


@pytest.fixture(autouse=True)
def _english():
    """Services called directly speak the active language: English, as the test clients do."""
    from django.utils import translation

    with translation.override("en"):
        yield


class Shop:
    """A company with an account, an employee's subscription, a product and an orderer."""

    def __init__(self, company):
        self.company = company
        self.account = BillingAccountFactory(company=company)
        self.subscription = SubscriptionFactory(company=company, account=self.account, employee_name="Karen Blixen")
        self.product = ProductFactory(name="SIM-kort", area="mobile")
        self.orderer = make_member(company, role=Role.ORDERER)

    def approver(self, **fields):
        return make_member(self.company, role=Role.APPROVER, **fields)

    def superuser(self):
        return make_member(self.company, role=Role.SUPERUSER)

    def data(self, **changes) -> dict:
        data = {
            "idempotency_key": uuid.uuid4(), "product": self.product, "for_new_user": False,
            "subscription": self.subscription.pk, "employee_name": "", "account": None, "quantity": 2,
            "delivery_name": "", "delivery_street": "Havnegade 1", "delivery_postal_code": "1058",
            "delivery_city": "København K", "contact_name": "Orla", "contact_email": "orla@example.com",
            "contact_phone": "", "contact_method": "email", "extra_contact_name": "", "extra_contact_email": "",
            "extra_contact_phone": "", "note": "",
        }
        data.update(changes)
        return data

    def post_data(self, **changes) -> dict:
        data = self.data(**changes)
        data["product"] = data["product"].pk if data["product"] else ""
        data["for_new_user"] = "new" if data["for_new_user"] else "existing"
        return {key: ("" if value is None else value) for key, value in data.items()}


@pytest.fixture
def shop(company):
    return Shop(company)


__all__ = ["Permission"]
