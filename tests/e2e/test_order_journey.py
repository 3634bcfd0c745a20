"""Ordering through a two-step approval chain, in a real browser, with the e-mails read from a real SMTP
server (outbox → Redis → Celery worker → SMTP). Every page on the way is checked with axe-core.

1. A user orders a SIM card for an existing employee, found by typing part of the name and picked with
   the keyboard; approver 1 opens the e-mailed link, signs in and approves; approver 2 rejects with a
   reason; the creator gets the rejection e-mail.
2. A second order passes both approvers, and staff move it to completed in the back office.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from orders.models import Order
from orders.services import chain_change
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import assert_no_horizontal_overflow
from tests.e2e.test_journey import PASSWORD, enter_code, last_sms_id, sms_code
from tests.factories import BillingAccountFactory, CompanyFactory, StaffUserFactory, SubscriptionFactory
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(transactional_db, settings, live_server):
    settings.SITE_URL = live_server.url
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company)
    SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen", number="+4522334455")
    SubscriptionFactory(company=company, account=account, employee_name="Niels Bohr")
    ProductFactory(name="SIM-kort", area="mobile")
    people = {
        "orderer": make_member(company, Role.ORDERER, full_name="Sofie Jensen", email="sofie@nordlys.example",
                               mobile="+4520112255"),
        "first": make_member(company, Role.APPROVER, full_name="Anders Holm", email="anders@nordlys.example",
                             mobile="+4520112266"),
        "second": make_member(company, Role.APPROVER, full_name="Bente Lund", email="bente@nordlys.example",
                              mobile="+4520112267"),
    }
    boss = make_member(company, Role.SUPERUSER)
    for key in ("first", "second"):
        chain_change(membership=boss, area="mobile", action="add", approver_id=people[key].user_id)
    people["staff"] = StaffUserFactory(full_name="Olivia Operator", email="staff@operator.example",
                                       mobile="+4520110000")
    return people


def sign_in_here(page: Page, user, landing):
    """Sign in on the page the site sent us to (the login form), then land where we were going."""
    before = last_sms_id()
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/login/verify/"))
    enter_code(page, sms_code(user.mobile, after_id=before))
    expect(page).to_have_url(re.compile(landing))


def order_sim_card(page: Page, *, check=False):
    page.goto(reverse("orders:create"))
    page.get_by_label("Product").select_option(label="SIM-kort (Mobile)")
    search = page.get_by_role("combobox", name="Employee")
    search.press_sequentially("kar", delay=50)
    option = page.get_by_role("option", name=re.compile("Karen Blixen"))
    expect(option).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    if check:
        assert_accessible(page, label="order form with suggestions")
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", re.compile("employee-option-"))
    search.press("Enter")
    expect(search).to_have_value("Karen Blixen")
    expect(option).to_be_hidden()
    page.get_by_role("button", name="Approve and send").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_text("The order is sent for approval.")).to_be_visible()
    return Order.objects.order_by("-pk").first()


def approval_link(smtp_server, address, count):
    messages = wait_for(lambda: len(smtp_server.to(address)) >= count and smtp_server.to(address))
    body = smtp_server.body(messages[count - 1])
    return re.search(r"(http://\S+/orders/link/\S+/)", body).group(1)


def decide_from_link(new_page, smtp_server, person, count, *, approve=True, reason="", check=False):
    link = approval_link(smtp_server, person.user.email, count)
    page = new_page()
    page.goto(link)
    sign_in_here(page, person.user, r"/orders/\d+/$")
    assert "/link/" not in page.url
    if check:
        assert_accessible(page, label="approval page")
        assert_no_horizontal_overflow(page, "approval page")
    if reason:
        page.get_by_label("Reason (needed to reject)").fill(reason)
    page.get_by_role("button", name="Approve" if approve else "Reject", exact=True).click()
    expect(page.locator("main")).to_contain_text(
        "Your approval is recorded." if approve else "The order is rejected")
    return page


def test_order_through_a_two_step_chain_and_the_back_office(new_page, shop, celery_worker, smtp_server):
    orderer = new_page()
    orderer.goto(reverse("orders:create"))
    sign_in_here(orderer, shop["orderer"].user, r"/orders/new/$")
    assert_accessible(orderer, label="order form")
    first_order = order_sim_card(orderer, check=True)
    assert_accessible(orderer, label="order page")

    decide_from_link(new_page, smtp_server, shop["first"], 1, check=True)
    decide_from_link(new_page, smtp_server, shop["second"], 1, approve=False, reason="Not in this year's budget")
    first_order.refresh_from_db()
    assert first_order.status == Order.Status.REJECTED
    rejection = wait_for(lambda: [m for m in smtp_server.to(shop["orderer"].user.email) if "rejected" in m["Subject"]])
    assert "Not in this year's budget" in smtp_server.body(rejection[0])

    second_order = order_sim_card(orderer)
    decide_from_link(new_page, smtp_server, shop["first"], 2)
    decide_from_link(new_page, smtp_server, shop["second"], 2)
    second_order.refresh_from_db()
    assert second_order.status == Order.Status.RECEIVED

    staff = new_page()
    staff.goto(reverse("admin:orders_order_change", args=[second_order.pk]))
    sign_in_here(staff, shop["staff"], rf"/backoffice/orders/order/{second_order.pk}/change/$")
    for status, tracking in (("in_progress", ""), ("shipped", "PDK-778899"), ("completed", "")):
        staff.get_by_label("Move to").select_option(status)
        if tracking:
            staff.get_by_label("Tracking number").fill(tracking)
        staff.get_by_role("button", name="Save the new status").click()
        expect(staff.locator("ul.messagelist")).to_contain_text("The order is now")
    second_order.refresh_from_db()
    assert second_order.status == Order.Status.COMPLETED and second_order.tracking_number == "PDK-778899"
    wait_for(lambda: [m for m in smtp_server.to(shop["orderer"].user.email) if "Completed" in m["Subject"]])

    orderer.goto(reverse("orders:history"))
    expect(orderer.get_by_role("link", name=second_order.number)).to_be_visible()
    assert_accessible(orderer, label="order history")
    orderer.get_by_role("link", name=second_order.number).click()
    expect(orderer.locator("main")).to_contain_text("PDK-778899")
    assert_accessible(orderer, label="completed order with its timeline")


def test_the_order_pages_fit_a_phone(new_page, shop, celery_worker):
    from tests.e2e.conftest import PHONE

    page = new_page(**PHONE)
    page.goto(reverse("orders:create"))
    sign_in_here(page, shop["orderer"].user, r"/orders/new/$")
    assert_no_horizontal_overflow(page, "order form at phone width")
    order = order_sim_card(page)
    assert_no_horizontal_overflow(page, "order page at phone width")
    assert_accessible(page, label="order page at phone width")
    page.goto(reverse("orders:index"))
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    assert_no_horizontal_overflow(page, "open orders at phone width")
