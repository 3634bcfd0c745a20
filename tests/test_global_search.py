"""The global search in the top bar: a number, an employee's name, an account number, an order or case
id, an invoice number; suggestions grouped by kind, each leading to its page; only what the login may
see (its company, its account numbers, the permission per kind); the same results without JavaScript;
a fixed number of queries however much data there is."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Permission, Role
from invoices.models import Invoice
from orders.models import Order
from selfcare.global_search import search_query
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory
from tests.orders.factories import ProductFactory
from tests.tickets.factories import FaultReportFactory, SupportCaseFactory
from tickets.models import SupportCase

pytestmark = pytest.mark.django_db


def suggestions(user, text) -> str:
    response = verified_client(user).get(reverse("search_suggestions"), {"q": text}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    return response.content.decode()


def results(user, text) -> str:
    response = verified_client(user).get(reverse("search"), {"q": text})
    assert response.status_code == 200
    return response.content.decode()


def order_of(company, account, **fields):
    return Order.objects.create(
        company=company, account=account, product=ProductFactory(name="SIM-kort"), area="mobile",
        unit_price=Decimal("49"), employee_name="Karen Blixen", delivery_street="Vej 1", delivery_postal_code="2100",
        delivery_city="Kbh", contact_name="K", contact_email="k@example.com", status=Order.Status.RECEIVED, **fields)


def invoice_of(account, number):
    today = timezone.localdate()
    return Invoice.objects.create(
        company=account.company, account=account, period=today.replace(day=1), number=number, issue_date=today,
        due_date=today, payment_reference="+71<1+", currency="DKK", net_total=Decimal("80.00"),
        vat_total=Decimal("20.00"), gross_total=Decimal("100.00"))


@pytest.fixture
def estate(company, account):
    account.number, account.name = "4410001", "Salg og marketing"
    account.save()
    line = SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen",
                               employee_email="karen@nordlys.example", number="+45 21234567")
    other_line = SubscriptionFactory(company=company, account=account, employee_name="Niels Bohr",
                                     number="+4529876543")
    return {"line": line, "other_line": other_line, "boss": make_member(company, Role.SUPERUSER).user}


@pytest.mark.parametrize("typed", ["Blix", "karen@nordlys", "2123", "21234567", "+45 21 23 45 67", "0045 2123 4567"])
def test_a_subscription_is_suggested_by_name_e_mail_or_number(estate, typed):
    html = suggestions(estate["boss"], typed)
    assert 'role="listbox"' in html and 'role="group"' in html
    assert f'data-href="{reverse("subscriptions:detail", args=[estate["line"].pk])}"' in html
    assert "Karen Blixen" in html and "Niels Bohr" not in html


def test_suggestions_are_grouped_by_kind_and_lead_to_their_pages(estate, company, account):
    order = order_of(company, account)
    case = SupportCaseFactory(company=company, account=account, subject="Roaming in Norway")
    html = suggestions(estate["boss"], str(order.pk))
    assert re.search(r'role="group" aria-labelledby="search-group-orders"', html)
    assert f'data-href="{reverse("orders:detail", args=[order.pk])}"' in html
    html = suggestions(estate["boss"], case.number)
    assert "search-group-cases" in html and "Roaming in Norway" in html
    html = suggestions(estate["boss"], "4410001")
    assert "search-group-accounts" in html and "Salg og marketing" in html
    assert f'data-href="{reverse("subscriptions:account_detail", args=[account.pk])}"' in html
    # The last option is every result (the results page).
    assert 'id="search-option-all"' in html and 'data-href="/search/?q=4410001"' in html


def test_an_invoice_is_found_by_its_number_and_a_fault_report_by_its_own(estate, company, account):
    invoice = invoice_of(account, 2026000123)
    report = FaultReportFactory(subscription=estate["line"])
    html = suggestions(estate["boss"], "2026000123")
    assert "search-group-invoices" in html and "Invoice 2026000123" in html
    html = suggestions(estate["boss"], report.number)
    assert "search-group-fault_reports" in html and report.number in html
    assert invoice.pk


def test_nothing_of_another_company_is_ever_suggested(estate, company):
    other = CompanyFactory()
    other_account = BillingAccountFactory(company=other, number="4410999", name="Salg hos konkurrenten")
    foreign = SubscriptionFactory(company=other, account=other_account, employee_name="Karen Konkurrent",
                                  number="+45 21230000")
    foreign_order = order_of(other, other_account)
    foreign_case = SupportCaseFactory(company=other, account=other_account)
    foreign_invoice = invoice_of(other_account, 2026999999)
    boss = estate["boss"]
    for text in ("Karen", "2123", "4410", "Salg", str(foreign_order.pk), foreign_case.number,
                 str(foreign_invoice.number)):
        for html in (suggestions(boss, text), results(boss, text)):
            assert "Konkurrent" not in html and "konkurrenten" not in html, text
            assert reverse("subscriptions:detail", args=[foreign.pk]) not in html, text
            assert reverse("orders:detail", args=[foreign_order.pk]) not in html, text
            assert "Invoice 2026999999" not in html, text
            assert f">{foreign_case.number}<" not in html and f"{foreign_case.number} <" not in html, text


def test_a_restricted_login_finds_only_its_account_numbers_rows(estate, company, account):
    outside = BillingAccountFactory(company=company, number="4410002", name="Salg udenfor")
    hidden = SubscriptionFactory(company=company, account=outside, employee_name="Karen Udenfor", number="+45 21235555")
    hidden_order = order_of(company, outside)
    hidden_invoice = invoice_of(outside, 2026000555)
    hidden_case = SupportCaseFactory(company=company, account=outside)
    restricted = make_member(company, Role.SUPERUSER, accounts=[account]).user
    assert "Karen Blixen" in suggestions(restricted, "Karen")
    for text in ("Karen", "21235555", "4410002", str(hidden_order.pk), "2026000555", hidden_case.number):
        html = suggestions(restricted, text)
        assert "Udenfor" not in html and "udenfor" not in html, text
        assert reverse("subscriptions:detail", args=[hidden.pk]) not in html, text
        assert reverse("orders:detail", args=[hidden_order.pk]) not in html, text
        assert "Invoice 2026000555" not in html, text
    assert hidden_invoice.pk and hidden_case.pk


def test_each_kind_needs_its_permission(estate, company, account):
    order = order_of(company, account)
    invoice_of(account, 2026000777)
    nobody = make_member(company, permissions=set()).user
    for text in ("Karen", "21234567", "4410001", str(order.pk), "2026000777"):
        html = suggestions(nobody, text)
        assert "Karen Blixen" not in html and "Salg og marketing" not in html, text
        assert reverse("orders:detail", args=[order.pk]) not in html and "Invoice 2026000777" not in html, text
    # Cases are every login's (seed 004); a colleague's draft is not.
    case = SupportCaseFactory(company=company, account=account)
    draft = SupportCaseFactory(company=company, account=account, status=SupportCase.Status.DRAFT)
    assert case.number in suggestions(nobody, case.number)
    assert draft.number not in suggestions(nobody, draft.number)
    reader = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS}).user
    assert "Karen Blixen" in suggestions(reader, "Karen")
    assert reverse("orders:detail", args=[order.pk]) not in suggestions(reader, str(order.pk))
    report = FaultReportFactory(subscription=estate["line"])
    assert report.number not in suggestions(reader, report.number)


def test_the_results_page_works_without_javascript(estate):
    html = results(estate["boss"], "Blixen")
    assert "<h2" in html and "Subscriptions" in html
    assert f'<a href="{reverse("subscriptions:detail", args=[estate["line"].pk])}">Karen Blixen</a>' in html
    assert 'value="Blixen"' in html  # the top bar keeps the search
    assert "Nothing found for “zzqqxx”." in results(estate["boss"], "zzqqxx")


def test_a_kind_with_more_hits_than_shown_links_to_its_list(estate, company, account):
    Subscription.objects.bulk_create(SubscriptionFactory.build(company=company, account=account,
                                                               employee_name=f"Hansen {index:02d}")
                                     for index in range(25))
    html = results(estate["boss"], "Hansen")
    assert len(re.findall(r">Hansen \d\d</a>", html)) == 20
    assert 'href="/subscriptions/?q=Hansen"' in html
    assert suggestions(estate["boss"], "Hansen").count('class="combobox__option"') == 5


def test_the_top_bar_has_the_combobox_on_every_page(estate):
    html = verified_client(estate["boss"]).get(reverse("subscriptions:list")).content.decode()
    assert 'role="search"' in html and 'role="combobox"' in html
    assert 'aria-controls="global-search-suggestions"' in html and 'id="global-search-suggestions"' in html
    assert 'action="/search/"' in html and "<script>" not in html


def test_too_little_text_finds_nothing_and_costs_nothing(estate):
    with CaptureQueriesContext(connection) as queries:
        html = suggestions(estate["boss"], "K")
    assert "Karen" not in html and not any("subscriptions_subscription" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize(("text", "digits", "identifier"), [
    ("+45 21 23 45 67", "21234567", None),
    ("0045 21234567", "21234567", None),
    ("21-23-45-67", "21234567", None),
    ("070-123 45 67", "701234567", None),
    ("#42", "42", 42),
    ("000042", "000042", 42),
    ("Karen", "", None),
])
def test_what_a_search_can_mean(text, digits, identifier):
    query = search_query(text)
    assert (query.digits, query.id) == (digits, identifier)


def company_with(size: int):
    company = CompanyFactory()
    accounts = BillingAccountFactory.create_batch(3, company=company)
    Subscription.objects.bulk_create(
        SubscriptionFactory.build(company=company, account=accounts[index % 3], employee_name=f"Hansen {index}",
                                  number=f"+45 2{index:07d}")
        for index in range(size))
    for index in range(min(size, 30)):
        order_of(company, accounts[index % 3])
        SupportCaseFactory(company=company, account=accounts[index % 3])
    return company, accounts


@pytest.mark.parametrize("restricted", [False, True], ids=["all-accounts", "restricted"])
@pytest.mark.parametrize("text", ["Han", "20000012", "12"])
def test_the_search_costs_the_same_queries_for_few_and_many_rows(text, restricted):
    counts = {}
    for size in (20, 400):
        company, accounts = company_with(size)
        member = make_member(company, Role.SUPERUSER, accounts=accounts[:2] if restricted else None)
        client = verified_client(member.user)
        for name in ("search_suggestions", "search"):
            client.get(reverse(name), {"q": text})  # settles the session
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name), {"q": text}).status_code == 200
            counts[(name, size)] = len(queries.captured_queries)
    assert counts[("search_suggestions", 20)] == counts[("search_suggestions", 400)], counts
    assert counts[("search", 20)] == counts[("search", 400)], counts
