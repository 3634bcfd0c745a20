"""A search's count stops at the list's ``search_count_limit`` (selfcare.lists), and the page says so: "more
than N lines match", never a wrong exact figure. Unsearched lists and small results keep the exact count."""

import re

import pytest

from accounts.permissions import Role
from subscriptions.views import SubscriptionListView
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
URL = "/subscriptions/"


@pytest.fixture
def estate(monkeypatch):
    monkeypatch.setattr(SubscriptionListView, "search_count_limit", 3)
    monkeypatch.setattr(SubscriptionListView, "paginate_by", 2)
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    for index in range(5):
        SubscriptionFactory(account=account, employee_name=f"Hansen {index}", number=f"+45 2011220{index}")
    SubscriptionFactory(account=account, employee_name="Jensen A", number="+45 20112300")
    SubscriptionFactory(account=account, employee_name="Jensen B", number="+45 20112301")
    return {"company": company, "admin": make_member(company, role=Role.SUPERUSER)}


def count_line(body: str) -> str:
    return " ".join(re.search(r'class="list-results__count" role="status">(.*?)</p>', body, re.S).group(1).split())


def names(body: str) -> list[str]:
    return re.findall(r'<a href="/subscriptions/\d+/">([^<]+)</a>', body)


def test_a_search_matching_more_than_the_limit_says_more_than(estate):
    client = verified_client(estate["admin"].user)
    body = client.get(URL, {"q": "hansen"}).content.decode()
    assert count_line(body) == "More than 3 lines match"
    assert "All lines that match (more than 3)" in body  # the bulk choice makes no claim of a number either
    # Paging is unaffected: every matching line is reached, the last page too.
    assert names(body) == ["Hansen 0", "Hansen 1"]
    assert names(client.get(URL, {"q": "hansen", "last": "1"}).content.decode()) == ["Hansen 3", "Hansen 4"]


def test_the_count_is_exact_up_to_the_limit_and_without_a_search(estate):
    client = verified_client(estate["admin"].user)
    assert count_line(client.get(URL, {"q": "jensen"}).content.decode()) == "2 lines match"
    assert count_line(client.get(URL, {"q": "20112"}).content.decode()) == "More than 3 lines match"
    body = client.get(URL).content.decode()
    assert count_line(body) == "7 lines" and "All 7 lines in the list" in body
    assert count_line(client.get(URL, {"status": "active"}).content.decode()) == "7 lines match"


def test_the_capped_count_is_said_in_danish_and_swedish(estate):
    user = estate["admin"].user
    for language, wording in (("da", "Mere end 3 linjer matcher"), ("sv", "Fler än 3 linjer matchar")):
        user.language = language
        user.save(update_fields=["language"])
        assert count_line(verified_client(user).get(URL, {"q": "hansen"}).content.decode()) == wording
