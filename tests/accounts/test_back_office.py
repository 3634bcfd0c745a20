"""The operator's back office (Django admin): staff only, and only after the second factor."""

import pytest
from django.urls import reverse

from accounts.models import Company, Membership, User
from tests.conftest import password_only_client, verified_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def test_staff_with_second_factor_see_companies_logins_and_memberships(staff, superuser, company):
    client = verified_client(staff)
    for model in (Company, User, Membership):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
    assert company.name in client.get(reverse("admin:accounts_company_changelist")).content.decode()


def assert_sent_to_sign_in(client, url):
    response = client.get(url, follow=True)
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith(reverse("accounts:login")), final_url
    assert "next=" in final_url
    assert response.status_code == 200 and "backoffice" not in response.templates[0].name


def test_staff_without_second_factor_are_sent_to_sign_in(staff):
    assert_sent_to_sign_in(password_only_client(staff), reverse("admin:index"))


def test_customer_logins_never_reach_the_back_office(superuser):
    """Signed in completely but not staff: a 403, not the sign-in page again (which, once signed in,
    sends back to the page asked for: a loop)."""
    client = verified_client(superuser)
    for url in [reverse("admin:index"), reverse("admin:accounts_company_changelist")]:
        response = client.get(url, follow=True)
        assert response.status_code == 403, url
        assert not any(template.name.startswith("admin/") for template in response.templates if template.name)


def test_anonymous_is_sent_to_sign_in(client):
    assert_sent_to_sign_in(client, reverse("admin:accounts_user_changelist"))


def test_staff_see_the_whole_audit_log_read_only(staff, company, other_company):
    from accounts.models import AuditEvent
    from accounts.services.audit import audit_record

    audit_record(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED, company=company, changes={"city": ["A", "B"]})
    audit_record(action=AuditEvent.Action.COMPANY_PROFILE_CHANGED, company=other_company, changes={"city": ["C", "D"]})
    client = verified_client(staff)
    page = client.get(reverse("admin:accounts_auditevent_changelist")).content.decode()
    assert company.name in page and other_company.name in page
    event = AuditEvent.objects.first()
    assert client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() == 2


def test_staff_without_a_company_are_taken_to_the_back_office(staff):
    response = verified_client(staff).get("/overview/")
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
