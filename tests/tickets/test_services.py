"""The rules of support cases and fault reports, and who hears what (outbox rows, written in the same
transaction; the real SMTP delivery is tests/tickets/test_emails.py)."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.permissions import Permission, Role
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member
from tests.factories import BillingAccountFactory, ConnectionFactory, StaffUserFactory, SubscriptionFactory
from tickets.models import Attachment, CaseMessage, FaultReport, SupportCase, SupportCaseEvent
from tickets.services import (
    TicketRefused,
    case_operator_reply,
    case_reopen,
    case_reply,
    case_save,
    case_submit,
    fault_report_add_info,
    fault_report_create,
    fault_report_operator_update,
)

pytestmark = pytest.mark.django_db

Status = SupportCase.Status


@pytest.fixture
def member(company):
    return make_member(company, Role.ORDERER, full_name="Sofie Jensen", email="sofie@nordlys.example")


@pytest.fixture
def staff():
    return StaffUserFactory(full_name="Olivia Operator")


def case_data(**changes):
    return {"area": "mobile", "service": "roaming", "subject": "Roaming in Norway",
            "description": "Does our plan include Norway?", "contact_name": "Sofie Jensen",
            "contact_email": "sofie@nordlys.example", "contact_method": "email", **changes}


def new_case(member, *, submit=True, files=(), **changes):
    case, created = case_save(membership=member, data=case_data(**changes), files=files, submit=submit,
                              idempotency_key=uuid.uuid4())
    assert created
    return case


def mails(address=None):
    queryset = OutboxMessage.objects.order_by("pk")
    return list(queryset.filter(recipient=address) if address else queryset)


def text_file(name="log.txt", content=b"Calls drop after 30 seconds.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


# Cases: the customer ---------------------------------------------------------------------------------------

def test_workflow_names_only_the_models_statuses():
    SupportCase.workflow.validate(SupportCase)
    FaultReport.workflow.validate(FaultReport)


def test_a_draft_is_saved_and_sent_later_and_its_timeline_says_so(member):
    case = new_case(member, submit=False)
    assert case.status == Status.DRAFT and case.submitted_at is None
    assert not mails()  # a draft tells nobody
    sent = case_submit(membership=member, case_id=case.pk)
    assert sent.status == Status.SUBMITTED and sent.awaiting_operator_since is not None
    assert [(e.kind, e.to_status) for e in SupportCaseEvent.objects.filter(subject=case).order_by("pk")] == [
        ("created", "draft"), ("", "submitted")]
    assert [m.recipient for m in mails()] == ["sofie@nordlys.example"]  # the receipt


def test_the_same_form_sent_twice_makes_one_case(member):
    key = uuid.uuid4()
    first, created = case_save(membership=member, data=case_data(), submit=True, idempotency_key=key)
    again, created_again = case_save(membership=member, data=case_data(), submit=True, idempotency_key=key)
    assert created and not created_again and first == again
    assert SupportCase.objects.count() == 1 and len(mails()) == 1


def test_a_case_about_a_subscription_is_scoped_by_its_account(company, member):
    subscription = SubscriptionFactory(company=company)
    case = new_case(member, subscription=subscription.pk)
    assert case.account == subscription.account and case.subscription == subscription


@pytest.mark.parametrize("field", ["subscription", "connection", "account"])
def test_a_subscription_outside_the_logins_scope_is_refused_and_nothing_is_written(company, other_company, field):
    allowed = BillingAccountFactory(company=company)
    restricted = make_member(company, Role.ORDERER, accounts=[allowed])
    outside = BillingAccountFactory(company=company)
    rows = {"subscription": lambda account: SubscriptionFactory(company=account.company, account=account),
            "connection": lambda account: ConnectionFactory(company=account.company, account=account),
            "account": lambda account: account}
    for account in (outside, BillingAccountFactory(company=other_company)):
        with pytest.raises(TicketRefused) as refused:
            new_case(restricted, files=[text_file()], **{field: rows[field](account).pk})
        assert field in refused.value.message_dict
    assert not SupportCase.objects.exists() and not Attachment.objects.exists() and not mails()


def test_a_case_for_a_colleague_is_theirs_too_and_only_a_colleague_can_be_named(company, other_company, member):
    colleague = make_member(company, Role.READ_ONLY, email="anders@nordlys.example")
    stranger = make_member(other_company)
    case = new_case(member, on_behalf_of=colleague.user_id, extra_contact_email="extra@example.com")
    assert case.on_behalf_of == colleague.user
    assert sorted(m.recipient for m in mails()) == ["anders@nordlys.example", "extra@example.com",
                                                    "sofie@nordlys.example"]
    with pytest.raises(TicketRefused) as refused:
        new_case(member, on_behalf_of=stranger.user_id)
    assert "on_behalf_of" in refused.value.message_dict


def test_creating_needs_the_permission(company):
    reader = make_member(company, Role.READ_ONLY)
    with pytest.raises(PermissionDenied):
        new_case(reader)


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_message_is_refused_and_nothing_is_written(member, body):
    case = new_case(member)
    with pytest.raises(TicketRefused) as refused:
        case_reply(membership=member, case_id=case.pk, body=body, files=[text_file()])
    assert refused.value.message_dict["body"] == ["Write a message before you send it."]
    assert not CaseMessage.objects.exists() and not Attachment.objects.exists()


def test_a_reply_to_a_closed_case_is_refused_and_nothing_is_written(member, staff):
    case = new_case(member)
    case_operator_reply(staff=staff, case_id=case.pk, to=Status.CLOSED)
    with pytest.raises(TicketRefused) as refused:
        case_reply(membership=member, case_id=case.pk, body="Hello?", files=[text_file()])
    assert "closed" in refused.value.messages[0]
    assert not CaseMessage.objects.exists() and not Attachment.objects.exists()


def test_the_customers_reply_takes_a_waiting_case_back_to_the_operator(member, staff):
    case = new_case(member)
    case_operator_reply(staff=staff, case_id=case.pk, body="Which country exactly?", to=Status.WAITING)
    case.refresh_from_db()
    assert case.status == Status.WAITING and case.awaiting_operator_since is None
    case_reply(membership=member, case_id=case.pk, body="Norway, from next week.", files=[text_file()])
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.awaiting_operator_since is not None
    message = case.messages.get(from_operator=False)
    assert message.attachments.get().original_name == "log.txt"


def test_a_resolved_case_can_be_reopened_for_14_days_only(member, staff):
    case = new_case(member)
    case_operator_reply(staff=staff, case_id=case.pk, body="Norway is included.", to=Status.RESOLVED)
    case.refresh_from_db()
    with pytest.raises(TicketRefused):
        case_reopen(membership=member, case_id=case.pk, now=case.resolved_at + timezone.timedelta(days=14, seconds=1))
    reopened = case_reopen(membership=member, case_id=case.pk, reason="Calls still fail.",
                           now=case.resolved_at + timezone.timedelta(days=13))
    assert reopened.status == Status.IN_PROGRESS and reopened.resolved_at is None
    assert reopened.events.last().kind == "reopened"
    with pytest.raises(TicketRefused):
        case_reopen(membership=member, case_id=case.pk)  # not resolved any more


# Cases: the operator, and the e-mails -----------------------------------------------------------------------

def test_an_operator_reply_with_a_status_change_is_one_e_mail_per_follower(company, member, staff):
    colleague = make_member(company, Role.READ_ONLY, email="anders@nordlys.example")
    case = new_case(member, on_behalf_of=colleague.user_id, extra_contact_email="SOFIE@nordlys.example")
    before = len(mails())
    case_operator_reply(staff=staff, case_id=case.pk, body="Norway is included in your plan.", to=Status.RESOLVED,
                        files=[text_file("prices.txt", b"Norway: 0 kr\n")])
    sent = mails()[before:]
    # Creator and colleague once each; the extra contact is the creator's address in other case: once.
    assert sorted(m.recipient for m in sent) == ["anders@nordlys.example", "sofie@nordlys.example"]
    for message in sent:
        assert "Resolved" in message.subject
        assert "Norway is included in your plan." in message.body and "prices.txt" in message.body
        assert f"/support/cases/{case.pk}/" in message.body


def test_an_internal_note_reaches_no_customer(member, staff):
    case = new_case(member)
    before = len(mails())
    case_operator_reply(staff=staff, case_id=case.pk, body="Customer is a VIP; check the contract.", internal=True,
                        files=[text_file("contract.txt", b"Secret terms\n")])
    assert len(mails()) == before
    case.refresh_from_db()
    assert case.awaiting_operator_since is not None  # a note is no answer
    # A note with a status change: the status is e-mailed, the note is not.
    case_operator_reply(staff=staff, case_id=case.pk, body="Escalated to second line.", internal=True,
                        to=Status.IN_PROGRESS)
    assert all("VIP" not in m.body and "second line" not in m.body for m in mails())
    assert Attachment.objects.get(original_name="contract.txt").internal


def test_no_status_e_mails_when_the_company_has_them_off(company, member, staff):
    company.status_emails = False
    company.save()
    case = new_case(member)
    case_operator_reply(staff=staff, case_id=case.pk, body="Answer.", to=Status.RESOLVED)
    assert not mails()


def test_only_staff_work_the_operators_side(member):
    case = new_case(member)
    with pytest.raises(PermissionDenied):
        case_operator_reply(staff=member.user, case_id=case.pk, body="I am not staff")


def test_the_operator_cannot_answer_with_nothing_or_move_to_a_customer_status(member, staff):
    case = new_case(member)
    with pytest.raises(TicketRefused):
        case_operator_reply(staff=staff, case_id=case.pk)
    with pytest.raises(TicketRefused):
        case_operator_reply(staff=staff, case_id=case.pk, to=Status.DRAFT)


# Fault reports ------------------------------------------------------------------------------------------------

def fault(member, subscription=None, connection=None, **data):
    report, created = fault_report_create(
        membership=member, idempotency_key=uuid.uuid4(),
        data={"subscription": subscription.pk if subscription else None,
              "connection": connection.pk if connection else None,
              "contact_email": "sofie@nordlys.example", **data})
    return report


def test_a_mobile_fault_needs_what_since_when_and_where(company, member):
    line = SubscriptionFactory(company=company, type="mobile", number="+4522334455")
    with pytest.raises(TicketRefused) as refused:
        fault(member, line, symptom="calls", started_at=timezone.now())
    assert "location" in refused.value.message_dict
    report = fault(member, line, symptom="calls", started_at=timezone.now(), location="Aarhus C, indoors")
    assert (report.area, report.reference, report.account) == ("mobile", "+4522334455", line.account)
    assert report.equipment_restarted is None


def test_a_data_fault_says_whether_the_equipment_was_restarted(company, member):
    circuit = ConnectionFactory(company=company, circuit_id="C-778899")
    with pytest.raises(TicketRefused) as refused:
        fault(member, connection=circuit, symptom="down", started_at=timezone.now())
    assert "equipment_restarted" in refused.value.message_dict
    report = fault(member, connection=circuit, symptom="down", started_at=timezone.now(), equipment_restarted=True)
    assert (report.area, report.reference, report.equipment_restarted) == ("data", "C-778899", True)


def test_a_fixed_line_fault_needs_only_its_symptom(company, member):
    line = SubscriptionFactory(company=company, type="telephony")
    with pytest.raises(TicketRefused):
        fault(member, line, symptom="calls")  # a mobile symptom
    assert fault(member, line, symptom="no_tone").area == "fixed"


def test_a_fault_outside_the_scope_or_on_a_terminated_line_is_refused(company, other_company, member):
    for line in (SubscriptionFactory(company=other_company),
                 SubscriptionFactory(company=company, status="terminated")):
        with pytest.raises(TicketRefused) as refused:
            fault(member, line, symptom="calls", started_at=timezone.now(), location="here")
        assert "subscription" in refused.value.message_dict
    assert not FaultReport.objects.exists()


def test_fault_reports_need_their_permission(company):
    line = SubscriptionFactory(company=company, type="telephony")
    without = make_member(company, permissions=[Permission.CREATE_SUPPORT_CASES])
    with pytest.raises(PermissionDenied):
        fault(without, line, symptom="no_tone")


def test_the_operators_updates_and_the_closing_are_e_mailed_even_without_status_e_mails(company, member, staff):
    company.status_emails = False
    company.save()
    line = SubscriptionFactory(company=company, type="telephony")
    report = fault(member, line, symptom="no_tone", contact_email="desk@nordlys.example")
    assert not mails()
    fault_report_operator_update(staff=staff, report_id=report.pk, body="A technician is on the way.",
                                 to=FaultReport.Status.IN_PROGRESS)
    fault_report_operator_update(staff=staff, report_id=report.pk, body="Cable replaced in the street.",
                                 to=FaultReport.Status.CLOSED)
    subjects = [m.subject for m in mails("sofie@nordlys.example")]
    assert subjects == [f"Fault report {report.number}: Being investigated", f"Fault report {report.number}: Closed"]
    assert len(mails("desk@nordlys.example")) == 2
    assert "Cable replaced" in mails("desk@nordlys.example")[-1].body


def test_the_reporter_adds_information_while_it_is_open_only(company, member, staff):
    line = SubscriptionFactory(company=company, type="telephony")
    report = fault(member, line, symptom="no_tone")
    fault_report_operator_update(staff=staff, report_id=report.pk, body="Does it ring at all?",
                                 to=FaultReport.Status.WAITING)
    fault_report_add_info(membership=member, report_id=report.pk, body="It rings, no sound.", files=[text_file()])
    report.refresh_from_db()
    assert report.status == FaultReport.Status.IN_PROGRESS and report.awaiting_operator_since
    fault_report_operator_update(staff=staff, report_id=report.pk, to=FaultReport.Status.CLOSED)
    with pytest.raises(TicketRefused) as refused:
        fault_report_add_info(membership=member, report_id=report.pk, body="Back again")
    assert "closed" in refused.value.messages[0]
    assert report.messages.filter(from_operator=False).count() == 1


def test_the_database_refuses_a_message_or_file_on_another_companys_case(company, other_company):
    """Around the ORM (raw SQL), as a bulk path or a slip in the back office would."""
    from django.db import IntegrityError, connection, transaction

    from tests.tickets.factories import SupportCaseFactory

    foreign = SupportCaseFactory(company=other_company)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO tickets_casemessage (company_id, case_id, author_label, from_operator, internal, "
                       "body, created_at) VALUES (%s, %s, '', false, false, 'x', now())", [company.pk, foreign.pk])
    line = SubscriptionFactory(company=other_company)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_supportcase SET subscription_id = %s WHERE id = %s",
                       [line.pk, SupportCaseFactory(company=company).pk])
