"""Races end in one consistent outcome (two connections, each held at the critical point:
tests/concurrency.py): the customer and the operator never write past each other."""

import uuid

import pytest
from django.utils import translation

from accounts.permissions import Role
from selfcare.outbox.models import OutboxMessage
from tests.concurrency import run_held_at
from tests.conftest import make_member
from tests.factories import CompanyFactory, StaffUserFactory
from tests.tickets.factories import SupportCaseFactory
from tickets.models import CaseMessage, SupportCase
from tickets.services import TicketRefused, case_operator_reply, case_reply, case_save

pytestmark = pytest.mark.django_db(transaction=True)


def english(function, **kwargs):
    def run():
        with translation.override("en"):
            return function(**kwargs)
    return run


def test_a_reply_while_the_operator_closes_the_case_waits_and_is_refused():
    company = CompanyFactory()
    member = make_member(company, Role.ORDERER)
    case = SupportCaseFactory(company=company, created_by=member.user)
    close = english(case_operator_reply, staff=StaffUserFactory(), case_id=case.pk, body="Done.",
                    to=SupportCase.Status.CLOSED)
    reply = english(case_reply, membership=member, case_id=case.pk, body="One more thing")
    # The operator's transaction is held after its status change, before it commits.
    run = run_held_at("tickets.services._case_email", close, reply)
    assert run.second_while_held == "lock", "the reply did not wait for the case's row lock"
    assert run.first.ok and isinstance(run.second.error, TicketRefused)
    assert "closed" in run.second.error.messages[0]
    assert list(CaseMessage.objects.values_list("body", flat=True)) == ["Done."]


def test_the_same_case_form_sent_twice_at_once_makes_one_case():
    company = CompanyFactory()
    member = make_member(company, Role.ORDERER)
    key = uuid.uuid4()
    data = {"area": "mobile", "service": "roaming", "subject": "Roaming", "description": "Norway?",
            "contact_name": "Kim", "contact_email": "kim@example.com"}
    save = english(case_save, membership=member, data=data, submit=True, idempotency_key=key)
    run = run_held_at("tickets.services.record_event", save, save)
    assert run.second_while_held == "lock"
    first, second = run.first.value(), run.second.value()
    assert first[1] is True and second == (first[0], False)
    assert SupportCase.objects.count() == 1 and OutboxMessage.objects.count() == 1
