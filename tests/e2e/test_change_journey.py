"""A price plan change from the employee page, through the company's approval chain, in a real browser,
with the approver's e-mail read from a real SMTP server (outbox → Redis → Celery worker → SMTP) and the
plan carried out by the provisioning simulator. Every page on the way is checked with axe-core.

The administrator opens an employee's page, chooses "Create change", sees the subscription fixed on
the form, picks the new plan and sends it; the approver opens the e-mailed link, signs in and approves;
the operator's systems change the plan, the change completes, and the employee page shows the new plan.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.permissions import Role
from orders.changes import change_orders_follow_up
from orders.models import Order
from orders.services import chain_change
from subscriptions.models import ChangeRequest
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.layout import assert_no_horizontal_overflow
from tests.e2e.test_order_journey import decide_from_link, sign_in_here
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(transactional_db, settings, live_server):
    settings.SITE_URL = live_server.url
    settings.PROVISIONING_SIMULATOR_DELAY = 0.2
    company = CompanyFactory(name="Nordlys Holding A/S")
    account = BillingAccountFactory(company=company)
    small = PricePlanFactory(code="e2e-small", name="Mobil 10 GB")
    PricePlanFactory(code="e2e-big", name="Mobil Fri 100 GB", data_gb=100)
    subscription = SubscriptionFactory(company=company, account=account, employee_name="Karen Blixen",
                                       number="+4522334455", plan=small)
    people = {
        "admin": make_member(company, Role.ADMINISTRATOR, full_name="Sofie Jensen", email="sofie@nordlys.example",
                             mobile="+4520112255"),
        "first": make_member(company, Role.APPROVER, full_name="Anders Holm", email="anders@nordlys.example",
                             mobile="+4520112266"),
    }
    boss = make_member(company, Role.SUPERUSER)
    chain_change(membership=boss, area="mobile", action="add", approver_id=people["first"].user_id)
    people["subscription"] = subscription
    return people


def test_a_plan_change_from_the_employee_page_through_approval_to_the_new_plan(new_page, desk, celery_worker,
                                                                              smtp_server):
    subscription = desk["subscription"]
    page = new_page()
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    sign_in_here(page, desk["admin"].user, rf"/subscriptions/{subscription.pk}/$")
    page.get_by_role("link", name="Create change").click()
    expect(page).to_have_url(re.compile(rf"/orders/changes/new/subscription/{subscription.pk}/$"))
    assert_accessible(page, label="change: choose the kind")
    page.get_by_role("link", name="Change of price plan").click()

    locked = page.locator("[data-locked-subject]")
    expect(locked).to_contain_text("Karen Blixen")
    expect(locked).to_contain_text("Mobil 10 GB")
    expect(page.locator("input[name=subscription], select[name=subscription]")).to_have_count(0)
    assert_accessible(page, label="change form with the subscription fixed")
    assert_no_horizontal_overflow(page, "change form")
    page.get_by_label("New price plan").select_option(label="Mobil Fri 100 GB")
    page.get_by_role("button", name="Approve and send").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_text("The change is sent for approval.")).to_be_visible()
    change = Order.objects.get(is_change=True)
    expect(page.locator("main")).to_contain_text(f"Change {change.number}")
    assert_accessible(page, label="change awaiting approval")

    decide_from_link(new_page, smtp_server, desk["first"], 1, check=True)

    request = wait_for(lambda: ChangeRequest.objects.filter(status=ChangeRequest.Status.COMPLETED).first())
    assert request.subscription_id == subscription.pk and request.action == ChangeRequest.Action.CHANGE_PLAN
    assert change_orders_follow_up() == 1  # what beat runs every minute
    wait_for(lambda: [m for m in smtp_server.to(desk["admin"].user.email) if "Completed" in m["Subject"]])

    page.goto(reverse("orders:change_history"))
    expect(page.get_by_role("link", name=change.number)).to_be_visible()
    assert_accessible(page, label="change history")
    page.get_by_role("link", name=change.number).click()
    expect(page.locator("main")).to_contain_text("Completed")
    expect(page.locator("[data-provisioning]")).to_contain_text("Done")
    assert_accessible(page, label="completed change with its timeline")
    page.goto(reverse("subscriptions:detail", args=[subscription.pk]))
    expect(page.locator("main")).to_contain_text("Mobil Fri 100 GB")


def test_the_change_pages_fit_a_phone(new_page, desk, celery_worker):
    from tests.e2e.conftest import PHONE

    subscription = desk["subscription"]
    page = new_page(**PHONE)
    url = reverse("orders:change_create", args=["subscription", subscription.pk]) + "?kind=plan"
    page.goto(url)
    sign_in_here(page, desk["admin"].user, r"/orders/changes/new/subscription/\d+/")
    expect(page.locator("[data-locked-subject]")).to_contain_text("Karen Blixen")
    assert_no_horizontal_overflow(page, "change form at phone width")
    assert_accessible(page, label="change form at phone width")
    page.get_by_label("New price plan").select_option(label="Mobil Fri 100 GB")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("The change is saved as a draft.")).to_be_visible()
    assert_no_horizontal_overflow(page, "draft change at phone width")
    page.goto(reverse("orders:changes"))
    change = Order.objects.get(is_change=True)
    expect(page.get_by_role("link", name=change.number)).to_be_visible()
    assert_no_horizontal_overflow(page, "open changes at phone width")
    assert_accessible(page, label="open changes at phone width")
