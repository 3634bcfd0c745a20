"""The operator's back office: queues, the thread with internal notes, replies with files and a new status,
assignment, and publishing notices. Staff only (behind the second factor, tests/accounts/test_back_office.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Role
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import StaffUserFactory, SubscriptionFactory
from tests.tickets.factories import FaultReportFactory, NoticeFactory, SupportCaseFactory
from tickets.models import Attachment, FaultReport, OperationalNotice, SupportCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffUserFactory(full_name="Olivia Operator")


@pytest.fixture
def staff_client(staff):
    return verified_client(staff)


def test_the_queues_show_new_and_waiting_items(company, staff_client, staff):
    new = SupportCaseFactory(company=company, subject="Brand new", awaiting_operator_since=timezone.now())
    waiting = SupportCaseFactory(company=company, subject="Customer answered", status="in_progress",
                                 awaiting_operator_since=timezone.now())
    answered = SupportCaseFactory(company=company, subject="Ball with customer", status="waiting")
    SupportCaseFactory(company=company, subject="Somebody's draft", status="draft")
    mine = SupportCaseFactory(company=company, subject="Assigned one", status="in_progress", assigned_to=staff)
    url = reverse("admin:tickets_supportcase_changelist")

    def listed(**params):
        return staff_client.get(url, params).content.decode()

    assert new.subject in listed(queue="new") and waiting.subject not in listed(queue="new")
    assert waiting.subject in listed(queue="waiting") and answered.subject not in listed(queue="waiting")
    assert mine.subject in listed(queue="mine") and new.subject not in listed(queue="mine")
    assert "Somebody&#x27;s draft" not in listed()
    fault = FaultReportFactory(subscription=SubscriptionFactory(company=company),
                               awaiting_operator_since=timezone.now())
    assert fault.reference in staff_client.get(reverse("admin:tickets_faultreport_changelist"),
                                               {"queue": "new"}).content.decode()


def test_staff_reply_with_a_file_note_internally_move_and_assign(company, staff_client, staff):
    member = make_member(company, Role.ORDERER, email="sofie@nordlys.example")
    case = SupportCaseFactory(company=company, created_by=member.user)
    colleague = StaffUserFactory(full_name="Bo Backline")
    reply_url = reverse("admin:tickets_supportcase_reply", args=[case.pk])
    change_url = reverse("admin:tickets_supportcase_change", args=[case.pk])
    response = staff_client.post(reply_url, {"body": "Here is the form to sign.", "to": "waiting",
                                             "attachments": [SimpleUploadedFile("form.txt", b"Sign here: ____\n")]})
    assert response.status_code == 302 and response["Location"] == change_url
    staff_client.post(reply_url, {"body": "Check the contract first.", "internal": "on"})
    staff_client.post(reverse("admin:tickets_supportcase_assign", args=[case.pk]), {"assigned_to": colleague.pk})
    case.refresh_from_db()
    assert (case.status, case.assigned_to) == (SupportCase.Status.WAITING, colleague)
    assert Attachment.objects.get(original_name="form.txt").from_operator
    page = staff_client.get(change_url).content.decode()
    assert "Check the contract first." in page and "INTERNAL NOTE" in page and "form.txt" in page
    mails = OutboxMessage.objects.filter(recipient="sofie@nordlys.example")
    assert mails.count() == 1 and "Here is the form to sign." in mails.get().body


def test_a_refused_reply_is_said_on_the_page(company, staff_client):
    case = SupportCaseFactory(company=company, status="closed")
    response = staff_client.post(reverse("admin:tickets_supportcase_reply", args=[case.pk]), {"body": "Late answer"},
                                 follow=True)
    assert "This case is closed." in response.content.decode()
    assert not case.messages.exists()


def test_staff_update_and_close_a_fault_report(company, staff_client):
    report = FaultReportFactory(subscription=SubscriptionFactory(company=company))
    url = reverse("admin:tickets_faultreport_reply", args=[report.pk])
    staff_client.post(url, {"body": "Technician booked for 14:00.", "to": "in_progress"})
    staff_client.post(url, {"body": "Fixed: the mast is back.", "to": "closed"})
    report.refresh_from_db()
    assert report.status == FaultReport.Status.CLOSED and report.closed_at
    assert OutboxMessage.objects.filter(recipient=report.contact_email).count() == 2


def test_customers_cannot_reach_the_back_office(company):
    case = SupportCaseFactory(company=company)
    customer = verified_client(make_member(company).user)
    response = customer.post(reverse("admin:tickets_supportcase_reply", args=[case.pk]), {"body": "Me, staff?"})
    assert response.status_code in (302, 403)
    assert not case.messages.exists()


def test_staff_publish_update_and_resolve_a_disruption(staff_client, staff):
    response = staff_client.post(reverse("admin:tickets_operationalnotice_add"), {
        "kind": "disruption", "title": "Fibre cut in Aarhus", "description": "Digging damaged a cable.",
        "area": "data", "cities": "Aarhus, Skanderborg ", "starts_at_0": "2026-12-01", "starts_at_1": "08:00",
        "published": "on",
        "updates-TOTAL_FORMS": "1", "updates-INITIAL_FORMS": "0", "updates-MIN_NUM_FORMS": "0",
        "updates-MAX_NUM_FORMS": "1000", "updates-0-at_0": "2026-12-01", "updates-0-at_1": "09:00",
        "updates-0-body": "Repair crew on site.",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = OperationalNotice.objects.get()
    assert notice.cities == ["Aarhus", "Skanderborg"] and notice.created_by == staff
    assert notice.updates.get().author == staff
    staff_client.post(reverse("admin:tickets_operationalnotice_changelist"),
                      {"action": "resolve_now", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert notice.resolved_at is not None


def test_the_notice_list_filters_active_ones(staff_client):
    NoticeFactory(title="Active one")
    NoticeFactory(title="Old one", resolved_at=timezone.now())
    page = staff_client.get(reverse("admin:tickets_operationalnotice_changelist"), {"state": "active"}).content.decode()
    assert "Active one" in page and "Old one" not in page


def test_assigning_is_in_the_companys_audit_log_and_only_a_change_is_recorded(company, staff_client, staff):
    from accounts.models import AuditEvent

    Action = AuditEvent.Action
    superuser = make_member(company, Role.SUPERUSER).user
    case = SupportCaseFactory(company=company)
    report = FaultReportFactory(subscription=SubscriptionFactory(company=company))
    bo = StaffUserFactory(full_name="Bo Backline")
    case_url = reverse("admin:tickets_supportcase_assign", args=[case.pk])
    staff_client.post(case_url, {"assigned_to": bo.pk})
    staff_client.post(case_url, {"assigned_to": bo.pk})  # no change: nothing recorded
    staff_client.post(case_url, {"assigned_to": staff.pk})
    staff_client.post(case_url, {"assigned_to": ""})
    staff_client.post(reverse("admin:tickets_faultreport_assign", args=[report.pk]), {"assigned_to": bo.pk})

    events = AuditEvent.objects.filter(company=company).order_by("created_at", "pk")
    assert [(event.action, event.changes) for event in events] == [
        (Action.SUPPORT_CASE_ASSIGNED, {"case": [None, case.number], "assigned_to": [None, "Bo Backline"]}),
        (Action.SUPPORT_CASE_ASSIGNED, {"case": [None, case.number], "assigned_to": ["Bo Backline", "Olivia Operator"]}),
        (Action.SUPPORT_CASE_ASSIGNED, {"case": [None, case.number], "assigned_to": ["Olivia Operator", None]}),
        (Action.FAULT_REPORT_ASSIGNED, {"fault_report": [None, report.number], "assigned_to": [None, "Bo Backline"]}),
    ]
    assert {event.actor for event in events} == {staff} and events[0].ip_address == "127.0.0.1"
    page = verified_client(superuser).get(reverse("accounts:audit_log")).content.decode()
    assert "Support case assigned at the operator" in page and "Fault report assigned at the operator" in page
    assert case.number in page and report.number in page and "Bo Backline → Olivia Operator" in page


def test_another_companys_log_never_shows_the_assignment(company, other_company, staff_client):
    from accounts.models import AuditEvent

    case = SupportCaseFactory(company=company)
    staff_client.post(reverse("admin:tickets_supportcase_assign", args=[case.pk]),
                      {"assigned_to": StaffUserFactory(full_name="Bo Backline").pk})
    assert AuditEvent.objects.get().company == company
    foreign = make_member(other_company, Role.SUPERUSER).user
    assert "Bo Backline" not in verified_client(foreign).get(reverse("accounts:audit_log")).content.decode()
