"""The account-number and connection lists (the list machinery, configured)."""

import csv
import io
import re

import pytest

from accounts.permissions import Role
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, ConnectionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def linked(response, prefix) -> list[str]:
    return re.findall(rf'<a href="/subscriptions/{prefix}/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def company():
    company = CompanyFactory()
    active = BillingAccountFactory(company=company, number="20000001", name="Salg")
    closed = BillingAccountFactory(company=company, number="20000002", name="Lukket afdeling")
    BillingAccountFactory(company=company, number="20000003", name="Udvikling", ean="5790000123452")
    SubscriptionFactory(account=active)
    SubscriptionFactory(account=closed, status=Subscription.Status.TERMINATED)
    ConnectionFactory(account=active, circuit_id="C-1", city="Aarhus C", service_type="fibre", capacity_mbps=1000)
    ConnectionFactory(account=active, circuit_id="C-2", city="Odense C", service_type="coax", capacity_mbps=100)
    ConnectionFactory(account=closed, circuit_id="C-3", city="Aarhus C", service_type="mpls", capacity_mbps=50)
    BillingAccountFactory(number="99999999")  # another company's
    ConnectionFactory(circuit_id="C-FOREIGN")
    return company


def test_accounts_are_searched_filtered_and_exported(company):
    client = verified_client(make_member(company).user)
    assert linked(client.get("/subscriptions/accounts/"), "accounts") == ["20000001", "20000002", "20000003"]
    assert linked(client.get("/subscriptions/accounts/", {"q": "lukket"}), "accounts") == ["20000002"]
    assert linked(client.get("/subscriptions/accounts/", {"q": "57900001"}), "accounts") == ["20000003"]  # EAN
    assert linked(client.get("/subscriptions/accounts/", {"status": "active"}), "accounts") == ["20000001"]
    assert linked(client.get("/subscriptions/accounts/", {"status": "inactive"}), "accounts") == ["20000002",
                                                                                                   "20000003"]
    response = client.get("/subscriptions/accounts/export.csv", {"sort": "-number"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["20000003", "20000002", "20000001"]


def test_a_restricted_login_lists_and_exports_only_its_accounts(company):
    from subscriptions.models import BillingAccount

    salg = BillingAccount.objects.get(number="20000001")
    client = verified_client(make_member(company, Role.READ_ONLY, accounts=[salg]).user)
    assert linked(client.get("/subscriptions/accounts/"), "accounts") == ["20000001"]
    text = b"".join(client.get("/subscriptions/accounts/export.csv").streaming_content).decode("utf-8-sig")
    assert "20000001" in text and "20000002" not in text and "99999999" not in text
    assert linked(client.get("/subscriptions/connections/"), "connections") == ["C-1", "C-2"]


def test_connections_are_filtered_by_city_type_and_capacity_and_sorted(company):
    client = verified_client(make_member(company).user)
    assert linked(client.get("/subscriptions/connections/"), "connections") == ["C-1", "C-3", "C-2"]
    assert linked(client.get("/subscriptions/connections/", {"city": "aarhus c"}), "connections") == ["C-1", "C-3"]
    assert linked(client.get("/subscriptions/connections/", {"service_type": "coax"}), "connections") == ["C-2"]
    assert linked(client.get("/subscriptions/connections/", {"capacity": "100"}), "connections") == ["C-1", "C-2"]
    assert linked(client.get("/subscriptions/connections/", {"sort": "-capacity"}), "connections") == ["C-1", "C-2",
                                                                                                         "C-3"]
    bad = client.get("/subscriptions/connections/", {"capacity": "lots"})
    assert bad.status_code == 200 and "Enter a number" in bad.content.decode()
    workbook_response = client.get("/subscriptions/connections/export.xlsx")
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(workbook_response.streaming_content))).active.values)
    assert [row[0] for row in rows[1:]] == ["C-1", "C-3", "C-2"] and "C-FOREIGN" not in str(rows)
    assert isinstance(rows[1][4], int)  # the capacity stays a number
