"""The company profile: main and delivery address and status e-mails of the active company only."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import AuditEvent, Company, Membership
from accounts.permissions import ALL_PERMISSIONS, Permission, Role
from accounts.services.profile import company_profile_update, postal_code_normalise
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

URL = "/company/profile/"

VALID = {
    "street": "Havnegade 12", "postal_code": "8000", "city": "Aarhus C",
    "delivery_street": "", "delivery_postal_code": "", "delivery_city": "", "status_emails": "on",
}


def post(client, **changes):
    return client.post(reverse("accounts:company_profile"), {**VALID, **changes})


@pytest.fixture
def admin_client(superuser):
    return stepped_up(verified_client(superuser))


def test_the_url_is_the_one_in_the_cogwheel():
    assert reverse("accounts:company_profile") == URL


def test_page_shows_the_fixed_facts_read_only_and_the_form(admin_client, company):
    page = admin_client.get(URL).content.decode()
    assert company.name in page and company.registration_number in page and "Denmark" in page
    assert 'name="street"' in page and 'value="Testvej 1"' in page
    assert 'name="status_emails"' in page and 'name="delivery_city"' in page
    # Name, country and registration number are shown, not editable.
    assert 'name="name"' not in page and 'name="registration_number"' not in page and 'name="country"' not in page
    for field in ("street", "postal_code", "city", "delivery_street", "delivery_postal_code", "delivery_city",
                  "status_emails"):
        assert f'for="id_{field}"' in page  # every control has a label


def test_saving_the_profile_is_audited_with_before_and_after(admin_client, superuser, company):
    response = post(admin_client, delivery_street="Lagervej 3", delivery_postal_code="2600",
                    delivery_city="Glostrup", status_emails="")
    assert response.status_code == 302 and response["Location"] == URL
    company.refresh_from_db()
    assert (company.street, company.postal_code, company.city) == ("Havnegade 12", "8000", "Aarhus C")
    assert company.delivery_address_lines == ["Lagervej 3", "2600 Glostrup"]
    assert company.status_emails is False
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED)
    assert event.company == company and event.actor == superuser
    assert event.changes == {
        "city": ["København Ø", "Aarhus C"],
        "delivery_city": ["", "Glostrup"],
        "delivery_postal_code": ["", "2600"],
        "delivery_street": ["", "Lagervej 3"],
        "postal_code": ["2100", "8000"],
        "status_emails": [True, False],
        "street": ["Testvej 1", "Havnegade 12"],
    }


def test_an_empty_delivery_address_means_the_main_address(admin_client, company):
    Company.objects.filter(pk=company.pk).update(delivery_street="Gammel Vej 1", delivery_postal_code="5000",
                                                 delivery_city="Odense C")
    post(admin_client)
    company.refresh_from_db()
    assert company.delivery_address_lines == company.address_lines == ["Havnegade 12", "8000 Aarhus C"]


def test_saving_without_changes_writes_no_audit(admin_client, company):
    post(admin_client)
    AuditEvent.objects.all().delete()
    post(admin_client)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("changes", "message"), [
    ({"delivery_street": "Lagervej 3"}, "Enter the postal code of the delivery address, or leave the whole delivery address empty"),
    ({"postal_code": "80000"}, "Enter a Danish postal code"),
    ({"delivery_street": "Lagervej 3", "delivery_postal_code": "26", "delivery_city": "Glostrup"},
     "Enter a Danish postal code"),
    ({"street": ""}, "This field is required"),
    ({"city": "x" * 101}, "Ensure this value has at most 100 characters"),
])
def test_bad_input_writes_nothing(admin_client, company, changes, message):
    response = post(admin_client, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    company.refresh_from_db()
    assert company.street == "Testvej 1" and company.delivery_street == ""
    assert not AuditEvent.objects.exists()


def test_a_crafted_post_cannot_touch_the_fixed_facts_or_another_company(admin_client, company, other_company):
    response = post(admin_client, name="Hacked", registration_number="12345674", country="SE",
                    company=other_company.pk, pk=other_company.pk)
    assert response.status_code == 302
    company.refresh_from_db()
    other_company.refresh_from_db()
    assert company.name == "Nordlys A/S" and company.country == "DK" and company.street == "Havnegade 12"
    assert other_company.street == "Testvej 1"


def test_the_company_is_always_the_active_membership(company, other_company):
    user = make_member(company).user
    Membership.objects.create(user=user, company=other_company, role=Role.SUPERUSER,
                              permissions=sorted(ALL_PERMISSIONS))
    client = stepped_up(verified_client(user))
    client.post(reverse("accounts:company_switch"), {"company": other_company.pk})
    assert other_company.name in client.get(URL).content.decode()
    post(client, street="Andenvej 2")
    company.refresh_from_db()
    other_company.refresh_from_db()
    assert other_company.street == "Andenvej 2" and company.street == "Testvej 1"


def test_a_company_not_ones_own_in_the_session_is_never_used(superuser, company):
    stranger = CompanyFactory(name="Fremmed A/S")
    client = stepped_up(verified_client(superuser))
    session = client.session
    session[SESSION_COMPANY_KEY] = stranger.pk
    session.save()
    page = client.get(URL).content.decode()
    assert "Fremmed A/S" not in page and company.name in page
    post(client, street="Andenvej 2")
    stranger.refresh_from_db()
    assert stranger.street == "Testvej 1"


def test_a_login_without_manage_company_gets_403(company):
    user = make_member(company, Role.ADMINISTRATOR).user
    client = verified_client(user)
    assert client.get(URL).status_code == 403
    assert post(client, street="Andenvej 2").status_code == 403
    company.refresh_from_db()
    assert company.street == "Testvej 1"


def test_the_cogwheel_links_the_page_only_for_those_allowed(company, superuser, read_only_user):
    assert URL in verified_client(superuser).get("/overview/").content.decode()
    assert URL not in verified_client(read_only_user).get("/overview/").content.decode()


# The service -----------------------------------------------------------------------------------

def test_service_refuses_a_membership_without_the_permission(company):
    membership = make_member(company, Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        company_profile_update(membership=membership, data={"street": "Andenvej 2"})


def test_service_refuses_an_inactive_membership(company):
    membership = make_member(company)
    membership.is_active = False
    with pytest.raises(PermissionDenied):
        company_profile_update(membership=membership, data={"street": "Andenvej 2"})


def test_service_accepts_only_profile_fields(company):
    membership = make_member(company)
    with pytest.raises(ValueError):
        company_profile_update(membership=membership, data={"name": "Hacked"})
    company.refresh_from_db()
    assert company.name == "Nordlys A/S"


def test_service_validates_postal_codes_by_country():
    swedish = CompanyFactory(country="SE", registration_number="5560360793", postal_code="11351", city="Stockholm")
    membership = make_member(swedish)
    company = company_profile_update(membership=membership, data={"postal_code": "11351", "delivery_street": "",
                                                                   "delivery_postal_code": "", "delivery_city": ""})
    assert company.postal_code == "113 51"
    with pytest.raises(ValidationError):
        company_profile_update(membership=membership, data={"postal_code": "2100"})
    assert postal_code_normalise("DK", " 2100 ") == "2100"


def test_service_writes_the_change_and_its_audit_together(company, monkeypatch):
    membership = make_member(company)

    def broken_audit(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("accounts.services.profile.audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        company_profile_update(membership=membership, data={"street": "Andenvej 2"})
    company.refresh_from_db()
    assert company.street == "Testvej 1"


def test_manage_company_is_the_permission_declared():
    from accounts.views.profile import CompanyProfileView

    assert CompanyProfileView.required_permission == Permission.MANAGE_COMPANY
