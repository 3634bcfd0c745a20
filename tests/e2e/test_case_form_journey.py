"""The case form's service list follows the product area in a real browser, with axe: htmx updates the list
in place when the area changes, and the "Choose" step of the form without JavaScript stays hidden. (The form
without JavaScript is tests/tickets/test_case_form.py, with the test client's plain form posts.)"""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.permissions import Role
from tests.conftest import make_member
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import sign_in
from tests.factories import CompanyFactory
from tickets.models import SupportCase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user(transactional_db):
    return make_member(CompanyFactory(name="Nordlys Holding A/S"), Role.ORDERER, full_name="Sofie Jensen",
                       email="sofie@nordlys.example", mobile="+4520112255", language="en").user


def service_options(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_label("Service").locator("option").all_inner_texts()]


def fill_and_send(page: Page):
    page.get_by_label("Subject").fill("Moving the office")
    page.get_by_label("Description", exact=True).fill("We move on 1 March: the connection must follow.")
    page.get_by_role("button", name="Submit case").click()
    expect(page.locator("main")).to_contain_text("The case is sent to the operator's customer service.")
    case = SupportCase.objects.get()
    assert (case.area, case.service) == ("data", "moving")


def test_with_javascript_the_service_list_follows_the_area(new_page, user, celery_worker):
    page = new_page()
    page.goto(reverse("accounts:login"))
    sign_in(page, user)
    page.goto(reverse("tickets:case_create"))
    expect(page.get_by_role("button", name="Choose", exact=True)).to_be_hidden()
    assert service_options(page) == ["Choose the product area first"]
    page.get_by_label("Product area").select_option(label="Data")
    expect(page.get_by_label("Service").locator("option", has_text="IP VPN and MPLS")).to_have_count(1)
    assert "Roaming and abroad" not in service_options(page)
    page.get_by_label("Product area").select_option(label="Mobile")
    expect(page.get_by_label("Service").locator("option", has_text="Roaming and abroad")).to_have_count(1)
    assert "IP VPN and MPLS" not in service_options(page)
    assert_accessible(page, label="case form, mobile services")
    page.get_by_label("Product area").select_option(label="Data")
    expect(page.get_by_label("Service").locator("option", has_text="Moving a connection")).to_have_count(1)
    page.get_by_label("Service").select_option(label="Moving a connection")
    fill_and_send(page)

