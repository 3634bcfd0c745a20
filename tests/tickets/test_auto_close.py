"""Resolved cases close by themselves once they can no longer be reopened (14 days after resolution):
the hourly beat job, on a controlled clock (the services take ``now``), exactly once however often or
however many at once it runs, and catching up after a stop."""

import re
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts.permissions import Role
from selfcare.outbox.models import OutboxMessage
from tests.concurrency import run_held_at
from tests.conftest import make_member, verified_client
from tests.factories import CompanyFactory, StaffUserFactory
from tickets.models import SupportCase
from tickets.services import TicketRefused, case_operator_reply, case_reopen, case_save, cases_close_resolved
from tickets.tasks import resolved_cases_close

Status = SupportCase.Status
DAY = timezone.timedelta(days=1)


def resolved_case(company, *, extra_contact_email="it@nordlys.example"):
    """A case sent by a login of ``company`` and resolved by the operator (one e-mail per follower each
    time: submission and resolution)."""
    member = make_member(company, Role.ORDERER, email=f"{uuid.uuid4().hex[:8]}@nordlys.example", language="en")
    case, _created = case_save(
        membership=member, submit=True, idempotency_key=uuid.uuid4(),
        data={"area": "mobile", "service": "roaming", "subject": "Roaming in Norway", "description": "Norway?",
              "contact_name": "Sofie", "contact_email": member.user.email, "extra_contact_email": extra_contact_email})
    case_operator_reply(staff=StaffUserFactory(), case_id=case.pk, body="Norway is included.", to=Status.RESOLVED)
    case.refresh_from_db()
    return member, case


def closing_mails(case):
    return list(OutboxMessage.objects.filter(subject__contains=case.number, body__contains="closed automatically")
                .order_by("recipient").values_list("recipient", flat=True))


@pytest.mark.django_db
def test_day_13_stays_resolved_and_can_be_reopened_day_15_is_closed_and_cannot(company):
    member, case = resolved_case(company)
    other_member, other = resolved_case(company)

    assert cases_close_resolved(now=case.resolved_at + 13 * DAY) == 0
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.can_reopen(now=case.resolved_at + 13 * DAY)
    reopened = case_reopen(membership=member, case_id=case.pk, now=case.resolved_at + 13 * DAY)
    assert reopened.status == Status.IN_PROGRESS

    assert cases_close_resolved(now=other.resolved_at + 15 * DAY) == 1
    other.refresh_from_db()
    assert other.status == Status.CLOSED
    event = other.events.order_by("at", "pk").last()
    assert (event.from_status, event.to_status, event.kind) == (Status.RESOLVED, Status.CLOSED, "closed_automatically")
    assert event.actor is None and event.actor_label == "" and event.data == {"automatic": True}  # the system
    assert event.reason == "Closed automatically: it was resolved more than 14 days ago."
    with pytest.raises(TicketRefused, match="Only a resolved case can be reopened"):
        case_reopen(membership=other_member, case_id=other.pk, now=other.resolved_at + 15 * DAY)
    assert SupportCase.objects.get(pk=case.pk).status == Status.IN_PROGRESS  # the reopened one is left alone


def timeline_by(page: str) -> list[str]:
    """Who did each step, as the case page's timeline says (the text after "·")."""
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return [re.search(r"·\s*([^<\n]+?)\s*$", item, re.M).group(1)
            for item in timeline.split('<li class="timeline__item">')[1:]]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "automatically", "operator"), [
    ("en", "Automatically", "the operator"), ("da", "Automatisk", "operatøren"), ("sv", "Automatiskt", "operatören")])
def test_the_customers_timeline_says_the_close_was_automatic_and_the_resolution_the_operators(
        company, language, automatically, operator):
    member, case = resolved_case(company)
    staff_name = case.events.get(to_status=Status.RESOLVED).actor_label
    cases_close_resolved(now=case.resolved_at + 15 * DAY)
    member.user.language = language
    member.user.save(update_fields=["language"])
    page = verified_client(member.user).get(reverse("tickets:case_detail", args=[case.pk])).content.decode()
    name = member.user.full_name
    # Created, submitted (by the customer), resolved (by staff), closed (by the hourly job).
    assert timeline_by(page) == [name, name, operator, automatically]
    assert staff_name and staff_name not in page  # staff are the operator to the customer, never named


@pytest.mark.django_db
def test_the_reason_is_written_in_the_creators_language(company):
    member, case = resolved_case(company)
    member.user.language = "da"
    member.user.save(update_fields=["language"])
    cases_close_resolved(now=case.resolved_at + 15 * DAY)
    with translation.override("da"):
        expected = translation.gettext("Closed automatically: it was resolved more than %(days)s days ago.") % {
            "days": 14}
    assert case.events.get(kind="closed_automatically").reason == expected != (
        "Closed automatically: it was resolved more than 14 days ago.")


@pytest.mark.django_db
def test_the_followers_are_mailed_once_and_a_second_run_does_nothing(company):
    _member, case = resolved_case(company)
    later = case.resolved_at + 15 * DAY
    assert cases_close_resolved(now=later) == 1
    assert closing_mails(case) == sorted([case.created_by.email, "it@nordlys.example"])
    mail = OutboxMessage.objects.get(recipient="it@nordlys.example", body__contains="closed automatically")
    assert "is now: Closed" in mail.body and "Create a new case if you need more help." in mail.body
    events = case.events.count()

    assert cases_close_resolved(now=later) == 0
    assert cases_close_resolved(now=later + 30 * DAY) == 0
    assert len(closing_mails(case)) == 2 and case.events.count() == events


@pytest.mark.django_db
def test_without_status_e_mails_the_case_closes_silently():
    company = CompanyFactory(status_emails=False)
    _member, case = resolved_case(company)
    before = OutboxMessage.objects.count()
    assert cases_close_resolved(now=case.resolved_at + 15 * DAY) == 1
    assert SupportCase.objects.get(pk=case.pk).status == Status.CLOSED
    assert OutboxMessage.objects.count() == before


@pytest.mark.django_db
def test_after_a_stop_every_case_past_the_limit_is_closed_in_one_run(company):
    now = timezone.now()
    cases = [resolved_case(company)[1] for _ in range(3)]
    ages = [15, 60, 400]
    for case, age in zip(cases, ages, strict=True):
        SupportCase.objects.filter(pk=case.pk).update(resolved_at=now - age * DAY)
    _member, fresh = resolved_case(company)  # resolved just now
    draft = SupportCase.objects.create(company=company, area="mobile", service="roaming", subject="Draft",
                                       description="x", contact_name="K", contact_email="k@example.com")
    # The beat's task, as the worker runs it (the real clock).
    assert resolved_cases_close.apply().get() == 3
    statuses = dict(SupportCase.objects.values_list("pk", "status"))
    assert [statuses[case.pk] for case in cases] == [Status.CLOSED] * 3
    assert statuses[fresh.pk] == Status.RESOLVED and statuses[draft.pk] == Status.DRAFT


def test_the_hourly_beat_entry_runs_the_task():
    entry = settings.CELERY_BEAT_SCHEDULE["tickets-close-resolved"]
    assert entry["task"] == "tickets.tasks.resolved_cases_close" and entry["schedule"] <= 3600


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_close_once_and_mail_once():
    _member, case = resolved_case(CompanyFactory())
    later = case.resolved_at + 15 * DAY

    def run():
        with translation.override("en"):
            return cases_close_resolved(now=later)

    # The first run is held after the close, before its e-mail and its commit; the second skips the
    # locked case instead of waiting for it (or closing it twice).
    held = run_held_at("tickets.services._case_email", run, run)
    assert held.second_while_held == "finished"
    assert (held.first.value(), held.second.value()) == (1, 0)
    assert case.events.filter(kind="closed_automatically").count() == 1
    assert len(closing_mails(case)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_while_the_customer_reopens_leaves_the_case_reopened():
    member, case = resolved_case(CompanyFactory())

    def reopen():
        with translation.override("en"):
            return case_reopen(membership=member, case_id=case.pk, now=case.resolved_at + 14 * DAY)

    def run():
        with translation.override("en"):
            return cases_close_resolved(now=case.resolved_at + 14 * DAY + timezone.timedelta(seconds=1))

    held = run_held_at("tickets.services.transition", reopen, run)
    assert held.second_while_held == "finished" and held.second.value() == 0
    assert held.first.value().status == Status.IN_PROGRESS
    assert SupportCase.objects.get(pk=case.pk).status == Status.IN_PROGRESS
    assert not case.events.filter(kind="closed_automatically").exists()
