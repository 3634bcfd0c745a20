"""The case form's service list is the chosen product area's, without JavaScript (the area is chosen first,
with its "Choose" button or in the address) and with it (htmx asks the same page for the list of the
area chosen); the server refuses a service of another area with a clear message and saves nothing."""

import re
import uuid

import pytest
from django.urls import reverse

from accounts.permissions import Role
from tests.conftest import make_member, verified_client
from tests.factories import ConnectionFactory, SubscriptionFactory
from tickets.catalogue import CASE_SERVICES
from tickets.models import SupportCase

pytestmark = pytest.mark.django_db

URL = "/support/cases/new/"


@pytest.fixture
def member(company):
    return make_member(company, Role.ORDERER, full_name="Sofie Jensen", email="sofie@nordlys.example")


@pytest.fixture
def client_for(member):
    return verified_client(member.user)


def services(html: str) -> list[str]:
    """The values the service select offers (the empty prompt left out)."""
    select = re.search(r'<select name="service".*?</select>', html, re.S)
    assert select, "no service select on the page"
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(0)) if value]


def area_services(area) -> list[str]:
    return [value for value, _label in CASE_SERVICES[area]]


def selected_area(html: str) -> str:
    select = re.search(r'<select name="area".*?</select>', html, re.S).group(0)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else ""


def typed(**changes):
    return {"idempotency_key": str(uuid.uuid4()), "area": "", "service": "", "subject": "Moving the office",
            "description": "We move on 1 March.", "contact_name": "Sofie Jensen",
            "contact_email": "sofie@nordlys.example", "contact_method": "email", **changes}


def test_url_is_the_case_form():
    assert reverse("tickets:case_create") == URL


def test_without_an_area_no_service_is_offered_and_the_area_is_chosen_first(client_for):
    html = client_for.get(URL).content.decode()
    assert services(html) == [] and "Choose the product area first" in html
    assert 'name="action" value="choose_area"' in html


def test_without_javascript_choose_lists_the_areas_services_and_keeps_what_was_typed(client_for):
    response = client_for.post(URL, typed(area="data", action="choose_area"))
    html = response.content.decode()
    assert response.status_code == 200 and not SupportCase.objects.exists()
    assert services(html) == area_services("data") and selected_area(html) == "data"
    assert "Moving the office" in html and "We move on 1 March." in html
    assert "errorlist" not in html  # a step, not a failed send
    # Then the service of that area, and the case is sent.
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    response = client_for.post(URL, typed(area="data", service="moving", idempotency_key=key, action="submit"))
    assert response.status_code == 302
    case = SupportCase.objects.get()
    assert (case.area, case.service, case.status) == ("data", "moving", SupportCase.Status.SUBMITTED)


def test_the_area_in_the_address_lists_its_services(client_for):
    html = client_for.get(URL, {"area": "fixed"}).content.decode()
    assert services(html) == area_services("fixed") and selected_area(html) == "fixed"
    assert services(client_for.get(URL, {"area": "nonsense"}).content.decode()) == []


def test_a_service_of_another_area_is_refused_clearly_and_nothing_is_saved(client_for):
    response = client_for.post(URL, typed(area="fixed", service="roaming", action="submit"))
    html = response.content.decode()
    assert response.status_code == 200 and not SupportCase.objects.exists()
    assert "This service is not one of the chosen product area&#x27;s services: choose one from the list." in html
    assert services(html) == area_services("fixed")  # the list to choose from is the area's


def test_a_service_without_an_area_is_refused(client_for):
    response = client_for.post(URL, typed(service="switchboard", action="submit"))
    assert response.status_code == 200 and not SupportCase.objects.exists()
    assert services(response.content.decode()) == []


def test_with_htmx_the_page_answers_the_service_list_of_the_area_only(client_for):
    response = client_for.get(URL, {"area": "mobile"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.strip().startswith('<div id="service-field">') and "<html" not in html
    assert services(html) == area_services("mobile")
    # The area select asks this page for it whenever the area changes.
    page = client_for.get(URL).content.decode()
    assert re.search(r'<select name="area"[^>]*hx-get="/support/cases/new/"[^>]*hx-target="#service-field"', page)


def test_started_from_a_line_the_form_is_locked_and_starts_with_its_area(company, client_for):
    line = SubscriptionFactory(company=company, type="telephony", number="+4533445566", employee_name="Karen Blixen")
    url = f"{URL}?subscription={line.pk}"
    html = client_for.get(url).content.decode()
    assert selected_area(html) == "fixed" and services(html) == area_services("fixed")
    assert 'name="subscription_number"' not in html and "+4533445566" in html
    # htmx keeps the line in the address it asks; the "Choose" step keeps it in the form's address.
    assert f'hx-get="{URL}?subscription={line.pk}"' in html
    fragment = client_for.get(url, {"area": "data"}, HTTP_HX_REQUEST="true").content.decode()
    assert services(fragment) == area_services("data")
    chosen = client_for.post(url, typed(area="mobile", action="choose_area")).content.decode()
    assert services(chosen) == area_services("mobile") and "+4533445566" in chosen
    assert f'action="{URL}?subscription={line.pk}"' in chosen
    client_for.post(url, typed(area="mobile", service="sim", action="submit"))
    case = SupportCase.objects.get()
    assert (case.subscription, case.area, case.service) == (line, "mobile", "sim")


def test_started_from_a_connection_the_area_is_data(company, client_for):
    circuit = ConnectionFactory(company=company)
    html = client_for.get(URL, {"connection": circuit.pk}).content.decode()
    assert selected_area(html) == "data" and services(html) == area_services("data")


def test_the_service_list_of_another_companys_line_is_404(other_company, client_for):
    foreign = SubscriptionFactory(company=other_company)
    response = client_for.get(URL, {"subscription": foreign.pk, "area": "mobile"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404


def test_a_draft_changes_area_with_the_choose_step(client_for):
    client_for.post(URL, typed(area="mobile", service="roaming", action="draft"))
    draft = SupportCase.objects.get()
    url = reverse("tickets:case_edit", args=[draft.pk])
    html = client_for.get(url).content.decode()
    assert selected_area(html) == "mobile" and services(html) == area_services("mobile")
    html = client_for.post(url, typed(area="data", subject="Moving, really", action="choose_area",
                                      idempotency_key=str(draft.idempotency_key))).content.decode()
    assert services(html) == area_services("data") and "Moving, really" in html
    draft.refresh_from_db()
    assert (draft.area, draft.subject) == ("mobile", "Moving the office")  # nothing saved by the step
