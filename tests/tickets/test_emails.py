"""The e-mails of support cases and fault reports, delivered for real: outbox → Redis → a Celery worker →
an SMTP server started by the test. An operator's reply arrives once at each follower, never twice."""

import time
import uuid

import pytest

from accounts.permissions import Role
from selfcare.outbox.models import OutboxMessage
from selfcare.outbox.services import outbox_deliver
from tests.conftest import make_member, wait_for
from tests.factories import CompanyFactory, StaffUserFactory, SubscriptionFactory
from tickets.models import FaultReport, SupportCase
from tickets.services import case_operator_reply, case_save, fault_report_create, fault_report_operator_update

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_operator_reply_reaches_creator_colleague_and_extra_contact_once(celery_worker, smtp_server, settings):
    settings.SITE_URL = "https://selfcare.example"
    company = CompanyFactory(status_emails=True)
    creator = make_member(company, Role.ORDERER, email="sofie@nordlys.example", language="en")
    colleague = make_member(company, Role.READ_ONLY, email="anders@nordlys.example", language="da")
    case, _created = case_save(membership=creator, submit=True, idempotency_key=uuid.uuid4(), data={
        "area": "mobile", "service": "roaming", "subject": "Roaming in Norway", "description": "Included?",
        "contact_name": "Sofie", "contact_email": "sofie@nordlys.example", "on_behalf_of": colleague.user_id,
        "extra_contact_email": "desk@nordlys.example"})
    addresses = ["sofie@nordlys.example", "anders@nordlys.example", "desk@nordlys.example"]
    wait_for(lambda: all(smtp_server.to(address) for address in addresses))  # the receipts
    case_operator_reply(staff=StaffUserFactory(), case_id=case.pk, body="Yes, Norway is included.",
                        to=SupportCase.Status.RESOLVED)
    wait_for(lambda: all(len(smtp_server.to(address)) == 2 for address in addresses))
    # Running the deliveries again (a redelivered task, the sweep) sends nothing more.
    for message in OutboxMessage.objects.all():
        assert outbox_deliver(message_id=message.pk) is False
    time.sleep(0.5)
    for address in addresses:
        received = smtp_server.to(address)
        assert len(received) == 2, address
        (reply,) = [m for m in received if "Resolved" in m["Subject"] or "Løst" in m["Subject"]]
        body = smtp_server.body(reply)
        assert "Yes, Norway is included." in body
        assert f"https://selfcare.example/support/cases/{case.pk}/" in body
    assert f"Support case {case.number}: Resolved" in [m["Subject"] for m in smtp_server.to("sofie@nordlys.example")]
    # The colleague reads it in their own language.
    assert f"Supportsag {case.number}: Løst" in [m["Subject"] for m in smtp_server.to("anders@nordlys.example")]


def test_a_fault_reports_update_and_closing_arrive(celery_worker, smtp_server):
    company = CompanyFactory(status_emails=False)
    reporter = make_member(company, Role.ORDERER, email="sofie@nordlys.example", language="en")
    line = SubscriptionFactory(company=company, type="telephony", number="+4533445566")
    report, _created = fault_report_create(membership=reporter, idempotency_key=uuid.uuid4(), data={
        "subscription": line.pk, "symptom": "no_tone", "contact_email": "sofie@nordlys.example"})
    staff = StaffUserFactory()
    fault_report_operator_update(staff=staff, report_id=report.pk, body="A technician comes at 14:00.",
                                 to=FaultReport.Status.IN_PROGRESS)
    fault_report_operator_update(staff=staff, report_id=report.pk, body="Repaired.", to=FaultReport.Status.CLOSED)
    received = wait_for(lambda: len(smtp_server.to("sofie@nordlys.example")) == 2
                        and smtp_server.to("sofie@nordlys.example"))
    by_subject = {m["Subject"]: smtp_server.body(m) for m in received}  # two worker threads: any order
    assert set(by_subject) == {f"Fault report {report.number}: Being investigated",
                               f"Fault report {report.number}: Closed"}
    assert "+4533445566" in by_subject[f"Fault report {report.number}: Being investigated"]
    assert "Repaired." in by_subject[f"Fault report {report.number}: Closed"]
