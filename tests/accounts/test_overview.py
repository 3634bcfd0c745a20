"""The overview, the page a login starts on: each section for the login that may see it, the quick SIM
swap and PUK look-up by number (scoped, audited, rate-limited), and a query count that does not grow
with the data."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.permissions import Permission, Role
from invoices.models import Invoice
from orders.models import Order, OrderApproval
from subscriptions.models import ChangeRequest, SimCard, Subscription
from subscriptions.services import PUK_LOOKUPS_PER_HOUR
from tests.conftest import make_member, verified_client
from tests.factories import (
    BillingAccountFactory,
    CompanyFactory,
    ConnectionFactory,
    SimCardFactory,
    SubscriptionFactory,
    iccid,
)
from tests.tickets.factories import NoticeFactory, SupportCaseFactory
from tickets.models import OperationalNotice, SupportCase

pytestmark = pytest.mark.django_db

_invoice_numbers = iter(range(9_100_000, 9_200_000))


def invoice(account, *, status=Invoice.Status.OPEN, due=None, months_ago=1):
    today = timezone.localdate()
    period = date(today.year, today.month, 1) - timedelta(days=28 * months_ago)
    period = period.replace(day=1)
    return Invoice.objects.create(
        company=account.company, account=account, period=period, number=next(_invoice_numbers),
        issue_date=period, due_date=due or today + timedelta(days=10), payment_reference="+71<000000001+",
        currency="DKK", net_total=Decimal("100.00"), vat_total=Decimal("25.00"), gross_total=Decimal("125.00"),
        status=status)


def order_awaiting(company, account, approver):
    from tests.orders.factories import ProductFactory

    order = Order.objects.create(
        company=company, account=account, product=ProductFactory(), area="mobile", unit_price=Decimal("99"),
        employee_name="Karen Blixen", delivery_street="Vej 1", delivery_postal_code="2100", delivery_city="Kbh",
        contact_name="K", contact_email="k@example.com", status=Order.Status.AWAITING_APPROVAL)
    OrderApproval.objects.create(company=company, order=order, approver=approver, position=1,
                                 order_version=order.version, chain_version=1,
                                 status=OrderApproval.Status.PENDING, token_hash=uuid.uuid4().hex,
                                 expires_at=timezone.now() + timedelta(days=7))
    return order


@pytest.fixture
def estate(company, account):
    """A company with a line, an account, an open and an overdue invoice, a case of the login's own and a
    colleague's, a disruption in one of its connections' cities and one elsewhere, an operator message."""
    boss = make_member(company, Role.SUPERUSER, full_name="Bo Boss")
    colleague = make_member(company, Role.ORDERER)
    line = SubscriptionFactory(company=company, account=account, number="+45 21234567", employee_name="Karen Blixen")
    SimCardFactory(company=company, subscription=line, status=SimCard.Status.ACTIVE)
    ConnectionFactory(company=company, account=account, city="Aarhus")
    open_invoice = invoice(account)
    overdue_invoice = invoice(account, status=Invoice.Status.OVERDUE, due=timezone.localdate() - timedelta(days=5),
                              months_ago=2)
    invoice(account, status=Invoice.Status.PAID, months_ago=3)
    mine = SupportCaseFactory(company=company, account=account, created_by=boss.user, subject="My roaming question",
                              status=SupportCase.Status.WAITING)
    theirs = SupportCaseFactory(company=company, account=account, created_by=colleague.user,
                                subject="Colleague's invoice question")
    SupportCaseFactory(company=company, account=account, created_by=colleague.user, subject="Colleague's draft",
                       status=SupportCase.Status.DRAFT)
    SupportCaseFactory(company=CompanyFactory(), subject="Another company's case")
    NoticeFactory(title="Fibre cut in Aarhus", area="data", cities=["aarhus"])
    NoticeFactory(title="Fibre cut in Odense", area="fixed", cities=["Odense"])
    NoticeFactory(title="New price list", kind=OperationalNotice.Kind.OPERATOR_MESSAGE, area="", cities=[])
    return {"boss": boss, "colleague": colleague, "line": line, "open_invoice": open_invoice,
            "overdue_invoice": overdue_invoice, "mine": mine, "theirs": theirs}


def page(user) -> str:
    response = verified_client(user).get(reverse("overview"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_superuser_sees_every_section(estate):
    html = page(estate["boss"].user)
    for text in ("Needs your attention", "Change SIM card", "Look up a PUK code", "Shortcuts", "Support cases",
                 "Subscriptions"):
        assert text in html, text
    # Cases: mine (waiting for my answer, so also a notice) and the company's, never a colleague's draft
    # or another company's case.
    assert "My roaming question" in html and "Cases waiting for your answer" in html
    assert "Colleague&#x27;s invoice question" in html
    assert "Colleague&#x27;s draft" not in html and "Another company" not in html
    # Unpaid invoices (invoices.selectors.invoice_notices): the open and the overdue, never the paid one.
    assert "1 overdue invoice, 125.00 DKK" in html and 'href="/invoices/?status=overdue"' in html
    assert "1 open invoice, 125.00 DKK" in html and 'href="/invoices/?status=open"' in html
    # Disruptions, the one in a city of the company's connections marked; the operator's message.
    assert "Fibre cut in Aarhus" in html and "Fibre cut in Odense" in html
    aarhus = html[html.index("Fibre cut in Aarhus") - 200:html.index("Fibre cut in Aarhus")]
    odense = html[html.index("Fibre cut in Odense") - 200:html.index("Fibre cut in Odense")]
    assert "Affects you" in aarhus and "Affects you" not in odense
    assert "Your connections in Aarhus" in html
    assert "New price list" in html and "Messages from the operator" in html


def test_a_notice_in_an_area_of_the_company_subscriptions_is_marked(estate):
    NoticeFactory(title="Mobile data slow everywhere", area="mobile", cities=[])
    html = page(estate["boss"].user)
    start = html.index("Mobile data slow everywhere")
    assert "Affects you" in html[start - 200:start]
    assert "Your subscriptions in Mobile" in html


def test_sections_follow_the_permissions(estate, company):
    read_only = make_member(company, Role.READ_ONLY).user
    html = page(read_only)
    assert "Change SIM card" not in html and "Look up a PUK code" not in html
    assert "Orders awaiting your approval" not in html
    assert "Unpaid invoices" in html  # read-only sees invoices
    nothing = make_member(company, permissions=set()).user
    html = page(nothing)
    assert "Unpaid invoices" not in html and "Subscriptions</h2>" not in html
    # Every login of the company sees its cases and the notices (seed 004).
    assert "Colleague&#x27;s invoice question" in html and "Fibre cut in Aarhus" in html
    assert "Create support case" not in html
    puk_only = make_member(company, permissions={Permission.VIEW_PUK}).user
    html = page(puk_only)
    assert "Look up a PUK code" in html and "Change SIM card" not in html


def test_orders_awaiting_my_approval_are_listed_for_an_approver(estate, company, account):
    approver = make_member(company, Role.APPROVER)
    order = order_awaiting(company, account, approver.user)
    html = page(approver.user)
    assert f"Order {order.number}" in html and reverse("orders:detail", args=[order.pk]) in html
    # Not the boss's: the order waits for the approver only.
    assert f"Order {order.number}" not in page(estate["boss"].user)


def test_a_restricted_login_sees_only_its_accounts_invoices_and_cases(estate, company, account):
    other_account = BillingAccountFactory(company=company)
    restricted = make_member(company, Role.SUPERUSER, accounts=[other_account]).user
    html = page(restricted)
    assert "open invoice" not in html and "overdue invoice" not in html
    assert "Colleague&#x27;s invoice question" not in html


# The quick SIM swap -----------------------------------------------------------------------------

def spare_sim(company, serial=123):
    return SimCardFactory(company=company, iccid=iccid(serial), status=SimCard.Status.SPARE)


@pytest.mark.parametrize("typed", ["+45 21234567", "21 23 45 67", "+4521234567", "0045 21 23 45 67"])
def test_a_sim_card_is_changed_by_the_line_number(estate, company, typed):
    spare = spare_sim(company)
    client = verified_client(estate["boss"].user)
    response = client.post(reverse("overview_sim_swap"), {"sim-number": typed, "sim-iccid": spare.iccid})
    assert response.status_code == 200
    assert "is sent to the operator" in response.content.decode()
    change = ChangeRequest.objects.get(subscription=estate["line"], action=ChangeRequest.Action.CHANGE_SIM)
    assert change.params["iccid"] == spare.iccid and change.requested_by == estate["boss"].user


def test_the_sim_swap_with_htmx_answers_its_card_only(estate, company):
    spare = spare_sim(company)
    response = verified_client(estate["boss"].user).post(
        reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": spare.iccid}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.strip().startswith('<section class="card" id="quick-sim"') and "<html" not in html
    assert response["Cache-Control"] == "private, no-store"


def test_the_sim_swap_refuses_a_line_of_another_company_or_outside_the_scope(estate, company, account):
    other = CompanyFactory()
    foreign = SubscriptionFactory(company=other, number="+45 29998877")
    outside = SubscriptionFactory(company=company, number="+45 28887766")
    spare = spare_sim(company)
    restricted = make_member(company, Role.SUPERUSER, accounts=[account]).user
    for user, number in ((estate["boss"].user, foreign.number), (restricted, outside.number)):
        response = verified_client(user).post(reverse("overview_sim_swap"),
                                              {"sim-number": number, "sim-iccid": spare.iccid})
        assert "None of your active or blocked lines has this number." in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_the_sim_swap_says_what_is_wrong_and_writes_nothing(estate, company):
    client = verified_client(estate["boss"].user)
    response = client.post(reverse("overview_sim_swap"), {"sim-number": "2123", "sim-iccid": iccid(5)})
    assert "Type the whole number of the line." in response.content.decode()
    response = client.post(reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": "1234"})
    assert "This is not a valid ICCID" in response.content.decode()
    response = client.post(reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": iccid(99)})
    assert "The company has no spare SIM card with this ICCID." in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_the_sim_swap_needs_manage_subscriptions(estate, company):
    spare = spare_sim(company)
    user = make_member(company, permissions={Permission.BLOCK_SIM, Permission.VIEW_SUBSCRIPTIONS}).user
    response = verified_client(user).post(reverse("overview_sim_swap"),
                                          {"sim-number": "21234567", "sim-iccid": spare.iccid})
    assert response.status_code == 403 and not ChangeRequest.objects.exists()


# The PUK look-up ---------------------------------------------------------------------------------

def test_the_puk_codes_are_shown_by_number_and_audited(estate):
    response = verified_client(estate["boss"].user).post(reverse("overview_puk"), {"puk-number": "21 23 45 67"})
    html = response.content.decode()
    assert "12345678" in html and "87654321" in html and "Karen Blixen" in html
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PUK_VIEWED)
    assert event.actor == estate["boss"].user and event.changes["number"] == [None, "+45 21234567"]
    assert "12345678" not in str(event.changes)


def test_the_puk_look_up_keeps_the_hourly_limit_of_the_employee_page(estate):
    client = verified_client(estate["boss"].user)
    for _ in range(PUK_LOOKUPS_PER_HOUR):
        assert b"12345678" in client.post(reverse("overview_puk"), {"puk-number": "21234567"}).content
    refused = client.post(reverse("overview_puk"), {"puk-number": "21234567"}).content.decode()
    assert "12345678" not in refused and "Try again next hour" in refused
    # The limit is the login's, wherever it looks: the employee page refuses too.
    response = client.post(reverse("subscriptions:puk", args=[estate["line"].pk]))
    assert b"12345678" not in response.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PUK_VIEWED).count() == PUK_LOOKUPS_PER_HOUR


def test_the_puk_look_up_finds_nothing_of_another_company(estate):
    foreign = SubscriptionFactory(company=CompanyFactory(), number="+45 27776655")
    SimCardFactory(company=foreign.company, subscription=foreign, status=SimCard.Status.ACTIVE)
    html = verified_client(estate["boss"].user).post(reverse("overview_puk"),
                                                     {"puk-number": foreign.number}).content.decode()
    assert "None of your active or blocked lines has this number." in html and "12345678" not in html
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PUK_VIEWED).exists()


def test_the_puk_look_up_needs_view_puk(estate, company):
    user = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS, Permission.MANAGE_SUBSCRIPTIONS}).user
    response = verified_client(user).post(reverse("overview_puk"), {"puk-number": "21234567"})
    assert response.status_code == 403


# The cost: a fixed number of queries --------------------------------------------------------------

def populate(company, size: int):
    """``size`` of everything the overview reads: lines over accounts, invoices, cases, notices, orders."""
    accounts = BillingAccountFactory.create_batch(3, company=company)
    Subscription.objects.bulk_create(
        SubscriptionFactory.build(company=company, account=accounts[index % 3],
                                  type=Subscription.Type.values[index % 4]) for index in range(size * 10))
    for index in range(size):
        account = accounts[index % 3]
        invoice(account, months_ago=index + 1, status=(Invoice.Status.OPEN, Invoice.Status.OVERDUE)[index % 2])
        SupportCaseFactory(company=company, account=account)
        NoticeFactory(cities=["Aarhus", "Odense"], area=("mobile", "data", "fixed")[index % 3])
        ConnectionFactory(company=company, account=account, city=("Aarhus", "Odense", "Vejle")[index % 3])
    return accounts


@pytest.mark.parametrize("restricted", [False, True], ids=["all-accounts", "restricted"])
def test_the_overview_costs_the_same_queries_for_few_and_many_rows(restricted):
    counts = {}
    for size in (2, 25):
        company = CompanyFactory()
        accounts = populate(company, size)
        member = make_member(company, Role.SUPERUSER, accounts=accounts[:2] if restricted else None)
        for _index in range(size):
            SupportCaseFactory(company=company, account=accounts[0], created_by=member.user)
            order_awaiting(company, accounts[0], member.user)
        from accounts.services.shortcuts import shortcut_create

        for index in range(min(size, 10)):
            shortcut_create(membership=member, name=f"Shortcut {index}", path=f"/subscriptions/?q={index}")
        client = verified_client(member.user)
        client.get(reverse("overview"))  # settles the session (active company)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("overview"))
        assert response.status_code == 200
        html = response.content.decode()
        assert ("(more than shown here)" in html) == (size > 5)
        counts[size] = len(queries.captured_queries)
    assert counts[2] == counts[25], counts


def test_the_subscription_figures_are_read_from_the_kept_counts_never_counted(estate, company, account):
    # The lines are never counted on the page (~100 ms at 500,000): the figures are the SubscriptionCount
    # rows the database keeps (tests/subscriptions/test_subscription_counts.py), exact on every visit.
    client = verified_client(estate["boss"].user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("overview")).content.decode()
    lines = '"subscriptions_subscription"'
    assert not [q for q in queries.captured_queries if "COUNT" in q["sql"] and lines in q["sql"]]
    assert "<strong>1</strong> active" in html
    SubscriptionFactory(company=company, account=account)
    assert "<strong>2</strong> active" in client.get(reverse("overview")).content.decode()
    # A restricted login has figures of its own scope, never the company's.
    restricted = make_member(company, Role.SUPERUSER, accounts=[BillingAccountFactory(company=company)]).user
    assert "<strong>0</strong> active" in verified_client(restricted).get(reverse("overview")).content.decode()
