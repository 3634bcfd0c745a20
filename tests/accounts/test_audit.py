import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Membership
from accounts.permissions import Role
from accounts.services.audit import audit_diff, audit_record
from tests.accounts.test_sign_in import current_sms_code, sign_in_with_password
from tests.conftest import make_member, verified_client

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def test_sign_in_is_recorded_in_every_company_of_the_login(client, superuser, company, other_company):
    Membership.objects.create(user=superuser, company=other_company, role=Role.READ_ONLY, permissions=[])
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    events = AuditEvent.objects.filter(action=Action.SIGN_IN, target_user=superuser)
    assert {event.company_id for event in events} == {company.pk, other_company.pk}
    assert all(event.actor_label == superuser.email and event.ip_address == "127.0.0.1" for event in events)


def test_failed_sign_in_lockout_wrong_code_and_sign_out_are_recorded(client, superuser, company, settings):
    sign_in_with_password(client, superuser, password="wrong")
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED, company=company, target_user=superuser).count() == 1
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in_with_password(client, superuser, password="wrong")
    assert AuditEvent.objects.filter(action=Action.LOCKED_OUT, company=company, target_user=superuser).exists()

    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:verify"), {"method": "sms", "token": "000000"})
    assert AuditEvent.objects.filter(action=Action.SECOND_FACTOR_FAILED, company=company).exists()
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action=Action.SIGN_OUT, company=company, target_user=superuser).exists()


def test_failed_sign_in_for_an_unknown_address_is_recorded_without_a_company(client):
    client.post(reverse("accounts:login"), {"username": "nobody@example.com", "password": "x"})
    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.company is None and event.target_label == "nobody@example.com"


def test_audit_diff_keeps_only_changed_fields():
    before = {"role": "read_only", "permissions": {"b", "a"}, "all_accounts": True}
    after = {"role": "custom", "permissions": ["a", "b"], "all_accounts": False}
    assert audit_diff(before, after) == {"all_accounts": [True, False], "role": ["read_only", "custom"]}


@pytest.fixture
def log(superuser, company, other_company):
    colleague = make_member(company, Role.READ_ONLY, email="anna@example.com").user
    now = timezone.now()
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=colleague,
                 changes={"role": ["read_only", "custom"]})
    audit_record(action=Action.LOGIN_DEACTIVATED, actor=superuser, company=company, target=colleague)
    old = audit_record(action=Action.COMPANY_PROFILE_CHANGED, actor=superuser, company=company,
                       changes={"city": ["Aarhus", "Odense"]})
    AuditEvent.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=40))
    foreign = make_member(other_company).user
    audit_record(action=Action.ACCESS_CHANGED, actor=foreign, company=other_company, target=foreign,
                 changes={"role": ["x", "y"]})
    return colleague


def test_superuser_sees_the_company_log_with_before_and_after(superuser, log, other_company):
    page = verified_client(superuser).get(reverse("accounts:audit_log")).content.decode()
    assert "anna@example.com" in page and "read_only → custom" in page and "Aarhus → Odense" in page
    assert "x → y" not in page  # the other company's event


def test_log_filters_by_who_what_and_period(superuser, log):
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")
    events = client.get(url, {"action": Action.LOGIN_DEACTIVATED}).context["page_obj"].object_list
    assert [event.action for event in events] == [Action.LOGIN_DEACTIVATED]
    events = client.get(url, {"who": "anna@"}).context["page_obj"].object_list
    assert {event.action for event in events} == {Action.ACCESS_CHANGED, Action.LOGIN_DEACTIVATED}
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    events = client.get(url, {"since": since}).context["page_obj"].object_list
    assert Action.COMPANY_PROFILE_CHANGED not in {event.action for event in events}
    response = client.get(url, {"since": "not-a-date", "action": "nonsense"})
    assert response.status_code == 200 and response.context["filterset"].errors


def test_csv_export_is_exactly_the_filtered_log(superuser, log):
    response = verified_client(superuser).get(reverse("accounts:audit_log_export"), {"who": "anna@"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Time", "By", "What"]
    assert sorted(row[2] for row in rows[1:]) == ["Login deactivated", "Role, permissions or account numbers changed"]
    assert all("x → y" not in cell for row in rows for cell in row)


def test_log_page_query_count_does_not_grow_with_the_log(superuser, company):
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")
    audit_record(action=Action.SIGN_IN, actor=superuser, company=company)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _index in range(60):
        audit_record(action=Action.SIGN_IN, actor=superuser, company=company)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
