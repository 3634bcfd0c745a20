"""A new subscription made with the guide, in a real browser: every step (keyboard and plain forms),
the order sent straight to the operator, staff completing it in the back office, and the subscription
made through the provisioning simulator appearing in the overview. Every page is checked with axe-core,
and the steps at phone width."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from orders.models import Order
from subscriptions.models import Subscription
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import assert_no_horizontal_overflow
from tests.e2e.test_order_journey import sign_in_here
from tests.factories import (
    AddOnFactory,
    BillingAccountFactory,
    CompanyFactory,
    PricePlanFactory,
    StaffUserFactory,
    SubscriptionFactory,
)
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def office(transactional_db, settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PROVISIONING_SIMULATOR_DELAY = 0.2
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company, number="7712345")
    SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen")
    ProductFactory(name="SIM-kort", area="mobile")
    PricePlanFactory(code="e2e-mobile", name="Mobil Guide 20 GB", type="mobile")
    AddOnFactory(code="e2e-roaming", name="Roaming Guide", type="mobile")
    return {
        "account": account,
        "user": make_member(company, Role.SUPERUSER, full_name="Sofie Jensen", email="sofie@nordlys.example",
                            mobile="+4520112255"),
        "staff": StaffUserFactory(full_name="Olivia Operator", email="staff@operator.example", mobile="+4520110000"),
    }


def next_step(page: Page, label: str):
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(label)


def test_a_new_subscription_made_with_the_guide_appears_in_the_overview(new_page, office, celery_worker):
    from tests.e2e.conftest import PHONE

    page = new_page(**PHONE)
    page.goto(reverse("orders:guide"))
    sign_in_here(page, office["user"].user, r"/orders/new-subscription/")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Step 1 of 8: The employee")
    assert_accessible(page, label="guide: employee")
    assert_no_horizontal_overflow(page, "guide at phone width")
    # A missing name is told beside the field.
    page.get_by_role("button", name="Next").click()
    expect(page.locator("main")).to_contain_text("Enter the employee's name.")
    assert_accessible(page, label="guide: a step with an error")
    name = page.get_by_label("The employee's name")
    name.fill("Tove Ditlevsen")
    name.press("Enter")  # the keyboard sends the step on
    expect(page.get_by_role("heading", level=2)).to_contain_text("Type and price plan")
    page.get_by_label("Mobile").check()
    page.get_by_label(re.compile("Mobil Guide 20 GB")).check()
    assert_accessible(page, label="guide: plan")
    next_step(page, "Add-on services")
    page.get_by_label(re.compile("Roaming Guide")).check()
    next_step(page, "SIM card or eSIM")
    page.get_by_label("An eSIM").check()
    page.get_by_label("Street and number").fill("Havnegade 1")
    page.get_by_label("Postal code").fill("1058")
    page.get_by_label("City").fill("København K")
    assert_accessible(page, label="guide: SIM")
    assert_no_horizontal_overflow(page, "guide SIM step at phone width")
    next_step(page, "Account number")
    page.get_by_label("Account number").select_option(str(office["account"].pk))
    next_step(page, "Number")
    page.get_by_label("A new number").check()
    assert_accessible(page, label="guide: number")
    next_step(page, "Start date")
    from django.utils import timezone

    page.get_by_label("Start date").fill(timezone.localdate().isoformat())
    next_step(page, "Check and send")
    expect(page.locator("[data-guide-summary]")).to_contain_text("Roaming Guide")
    assert_accessible(page, label="guide: summary")
    assert_no_horizontal_overflow(page, "guide summary at phone width")
    page.get_by_role("button", name="Approve and send").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_text("The order is sent to the operator.")).to_be_visible()
    order = Order.objects.get()

    staff = new_page()
    staff.goto(reverse("admin:orders_order_change", args=[order.pk]))
    sign_in_here(staff, office["staff"], rf"/backoffice/orders/order/{order.pk}/change/$")
    for status, tracking in (("in_progress", ""), ("shipped", "PDK-1"), ("completed", "")):
        staff.get_by_label("Move to").select_option(status)
        if tracking:
            staff.get_by_label("Tracking number").fill(tracking)
        staff.get_by_role("button", name="Save the new status").click()
        expect(staff.locator("ul.messagelist")).to_contain_text("The order is now")

    made = wait_for(lambda: Subscription.objects.filter(employee_name="Tove Ditlevsen").first())
    assert made.account == office["account"] and made.sim_cards.get().is_esim
    page.goto(reverse("subscriptions:list"))
    expect(page.locator("main")).to_contain_text("Tove Ditlevsen")
    assert_accessible(page, label="overview with the new subscription")
