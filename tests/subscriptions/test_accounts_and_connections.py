"""Account numbers (their invoice settings) and connections."""

import pytest
from django.urls import reverse

from accounts.permissions import Role
from subscriptions.models import BillingAccount
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, ConnectionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

VALID_GLN = "5790000123452"  # 13 digits with a correct EAN check digit


def test_an_account_shows_its_settings_lines_and_connections():
    account = BillingAccountFactory(number="12340001", name="Salg")
    SubscriptionFactory(account=account, employee_name="Anna Jensen")
    ConnectionFactory(account=account, circuit_id="C-4711", city="Aarhus C")
    admin = make_member(account.company)
    body = verified_client(admin.user).get(reverse("subscriptions:account_detail", args=[account.pk])).content.decode()
    assert "12340001" in body and "Anna Jensen" in body and "C-4711" in body and "1 subscription" in body
    assert "Change the invoice settings" in body


def test_a_restricted_login_sees_only_its_lines_of_the_account():
    account = BillingAccountFactory()
    SubscriptionFactory(account=account, employee_name="Anna Jensen")
    restricted = make_member(account.company, Role.READ_ONLY, accounts=[account])
    body = verified_client(restricted.user).get(reverse("subscriptions:account_detail", args=[account.pk])).content.decode()
    assert "Anna Jensen" in body and "Change the invoice settings" not in body


def test_the_invoice_settings_are_saved_with_a_valid_ean():
    account = BillingAccountFactory()
    client = verified_client(make_member(account.company).user)
    response = client.post(reverse("subscriptions:account_edit", args=[account.pk]), {
        "name": "Salg og marketing", "email": "faktura@example.com", "ean": "5790 0001 2345 2", "invoice_format": "ean",
    })
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.ean, account.invoice_format) == ("Salg og marketing", VALID_GLN, "ean")


@pytest.mark.parametrize("data, message", [
    ({"ean": "5790000123453", "invoice_format": "ean"}, "check digit of this EAN number is wrong"),
    ({"ean": "57900001234", "invoice_format": "ean"}, "has 13 digits"),
    ({"ean": "", "invoice_format": "ean"}, "needs the EAN number"),
    ({"email": "", "invoice_format": "pdf_email"}, "need the e-mail address"),
    ({"invoice_format": "fax"}, "Select a valid choice"),
])
def test_bad_invoice_settings_are_refused_and_nothing_is_saved(data, message):
    account = BillingAccountFactory(name="Salg", email="faktura@example.com")
    client = verified_client(make_member(account.company).user)
    post = {"name": "Changed", "email": "faktura@example.com", "ean": "", "invoice_format": "pdf_email", **data}
    response = client.post(reverse("subscriptions:account_edit", args=[account.pk]), post)
    assert response.status_code == 200 and message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert BillingAccount.objects.get(pk=account.pk).name == "Salg"


def test_changing_invoice_settings_needs_the_permission():
    account = BillingAccountFactory(name="Salg")
    reader = make_member(account.company, Role.READ_ONLY)
    response = verified_client(reader.user).post(reverse("subscriptions:account_edit", args=[account.pk]), {
        "name": "Hacked", "email": "x@example.com", "ean": "", "invoice_format": "pdf_email"})
    assert response.status_code == 403
    assert BillingAccount.objects.get(pk=account.pk).name == "Salg"


def test_a_connection_shows_its_address_services_and_contact():
    connection = ConnectionFactory(circuit_id="C-4711", services="Internet, fast IP", contact_name="Driftsvagt",
                                   contact_phone="+4570101010", capacity_mbps=500)
    admin = make_member(connection.company)
    body = verified_client(admin.user).get(
        reverse("subscriptions:connection_detail", args=[connection.pk])).content.decode()
    assert "C-4711" in body and "Havnegade 12" in body and "500 Mbit/s" in body and "Driftsvagt" in body
