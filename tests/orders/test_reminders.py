"""Reminders: a step waiting more than 3 working days of the company's country gets one reminder
e-mail, to whoever holds the step now, in its language, with a link that works like the first.
The clock is controlled: the run takes ``now``, and the step's wait starts where the test puts it."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company
from orders.models import OrderApproval
from orders.services import absence_set, absences_hand_over_due, approval_reminders_send, order_decide
from orders.working_days import is_working_day, nth_working_day_after
from tests.conftest import verified_client
from tests.orders.test_approvals import chain, link_in, mails_to, step_of, submit
from tests.orders.test_links import open_link

pytestmark = pytest.mark.django_db

CPH = ZoneInfo("Europe/Copenhagen")


def at(year, month, day, hour=10, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=CPH)


def waiting(shop, since, *, country="DK", approver=None):
    """An order whose first step has waited since ``since``, in a company of ``country``."""
    Company.objects.filter(pk=shop.company.pk).update(country=country)
    approver = approver or shop.approver()
    chain(shop, approver)
    order = submit(shop)
    OrderApproval.objects.filter(order=order).update(waiting_since=since)
    return order, approver


def reminders_to(membership):
    return [m for m in mails_to(membership) if m.subject.startswith(("Reminder", "Påmindelse", "Påminnelse"))]


# Working days ------------------------------------------------------------------------------------

def test_working_days_skip_weekends_and_the_countrys_holidays():
    assert not is_working_day(datetime.date(2026, 4, 2), "DK")  # Maundy Thursday: a holiday in Denmark
    assert is_working_day(datetime.date(2026, 4, 2), "SE")  # ... but not in Sweden
    assert not is_working_day(datetime.date(2026, 6, 19), "SE")  # Midsommarafton
    assert not is_working_day(datetime.date(2025, 6, 6), "SE")  # Sveriges nationaldag
    assert not is_working_day(datetime.date(2026, 12, 24), "DK")  # Juleaftensdag
    assert not is_working_day(datetime.date(2026, 11, 7), "DK")  # a Saturday
    assert nth_working_day_after(datetime.date(2026, 11, 5), 2, "DK") == datetime.date(2026, 11, 9)


# When the reminder goes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("country", "due"), [
    # Asked on Wednesday before Easter. Denmark: Maundy Thursday, Good Friday and Easter Monday are
    # holidays, so Tue, Wed, Thu go by and the reminder goes on Friday 10 April.
    ("DK", datetime.date(2026, 4, 10)),
    # Sweden works on Maundy Thursday: Thu 2, Tue 7, Wed 8 go by, the reminder goes on Thursday 9 April.
    ("SE", datetime.date(2026, 4, 9)),
])
def test_easter_holidays_of_the_companys_country_do_not_count(shop, country, due):
    order, approver = waiting(shop, at(2026, 4, 1), country=country)
    day_before = datetime.datetime.combine(due - datetime.timedelta(days=1), datetime.time(23, 30), tzinfo=CPH)
    assert approval_reminders_send(now=day_before) == 0
    assert approval_reminders_send(now=datetime.datetime.combine(due, datetime.time(0, 30), tzinfo=CPH)) == 1
    assert len(reminders_to(approver)) == 1


def test_christmas_in_denmark(shop):
    # Asked on Monday 21 December: Tue 22, Wed 23 go by; 24 and 25 (the Friday) are holidays, then the
    # weekend; Monday 28 is the third working day, so the reminder goes on Tuesday 29.
    order, approver = waiting(shop, at(2026, 12, 21))
    assert approval_reminders_send(now=at(2026, 12, 28, 23, 59)) == 0
    assert approval_reminders_send(now=at(2026, 12, 29, 8)) == 1


@pytest.mark.parametrize(("asked", "quiet", "due"), [
    # Midsommarafton, Friday 19 June 2026: asked Tuesday 16, Wed 17, Thu 18, Mon 22 go by.
    (at(2026, 6, 16), at(2026, 6, 22, 23), at(2026, 6, 23, 1)),
    # Sveriges nationaldag, Friday 6 June 2025: asked Tuesday 3, Wed 4, Thu 5, Mon 9 go by.
    (at(2025, 6, 3), at(2025, 6, 9, 23), at(2025, 6, 10, 1)),
])
def test_swedish_holidays(shop, asked, quiet, due):
    order, approver = waiting(shop, asked, country="SE")
    assert approval_reminders_send(now=quiet) == 0
    assert approval_reminders_send(now=due) == 1


def test_a_weekend_does_not_count(shop):
    # Asked Thursday 5 November late: Fri 6, Mon 9, Tue 10 go by; the reminder goes on Wednesday 11.
    order, approver = waiting(shop, at(2026, 11, 5, 22))
    assert approval_reminders_send(now=at(2026, 11, 8, 12)) == 0  # Sunday: three calendar days, one working day
    assert approval_reminders_send(now=at(2026, 11, 10, 23, 59)) == 0
    assert approval_reminders_send(now=at(2026, 11, 11, 0, 5)) == 1


# Once, and only while it waits -------------------------------------------------------------------------

def test_one_reminder_however_often_the_run_goes(shop):
    order, approver = waiting(shop, at(2026, 11, 2))
    assert approval_reminders_send(now=at(2026, 11, 6)) == 1
    assert approval_reminders_send(now=at(2026, 11, 6, 11)) == 0
    assert approval_reminders_send(now=at(2026, 11, 20)) == 0
    assert len(reminders_to(approver)) == 1
    assert step_of(order).reminded_at == at(2026, 11, 6)


def test_no_reminder_for_a_decided_step(shop):
    order, approver = waiting(shop, at(2026, 11, 2))
    order_decide(membership=approver, order_id=order.pk, step_id=step_of(order).pk, approve=False, reason="No")
    assert approval_reminders_send(now=at(2026, 11, 20)) == 0
    assert reminders_to(approver) == []


def test_the_next_approver_waits_afresh(shop):
    first, second = shop.approver(), shop.approver()
    chain(shop, first, second)
    order = submit(shop)
    OrderApproval.objects.filter(order=order).update(waiting_since=at(2026, 11, 2))
    order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    # The second step was asked just now (the real clock): not due on the first step's day.
    assert approval_reminders_send(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert reminders_to(first) == [] and reminders_to(second) == []


def test_a_stand_in_gets_it_when_the_step_moved(shop):
    approver, stand_in = shop.approver(), shop.approver()
    order, _ = waiting(shop, at(2026, 11, 2), approver=approver)
    absence_set(membership=approver, stand_in_id=stand_in.user_id, starts_on=timezone.localdate(),
                ends_on=timezone.localdate() + datetime.timedelta(days=3))
    step = step_of(order)
    assert step.approver == stand_in.user and step.waiting_since == at(2026, 11, 2)  # the wait carries over
    assert approval_reminders_send(now=at(2026, 11, 6)) == 1
    assert len(reminders_to(stand_in)) == 1 and reminders_to(approver) == []
    assert "You stand in for" in reminders_to(stand_in)[0].body


def test_a_reminder_already_sent_is_not_sent_again_to_the_stand_in(shop):
    approver, stand_in = shop.approver(), shop.approver()
    order, _ = waiting(shop, at(2026, 11, 2), approver=approver)
    assert approval_reminders_send(now=at(2026, 11, 6)) == 1
    absence_set(membership=approver, stand_in_id=stand_in.user_id, starts_on=timezone.localdate(),
                ends_on=timezone.localdate())
    assert absences_hand_over_due() == 0  # already handed over by absence_set
    assert approval_reminders_send(now=at(2026, 11, 9)) == 0
    assert reminders_to(stand_in) == []  # the stand-in had the hand-over e-mail with its own link


# The e-mail ---------------------------------------------------------------------------------------

def test_the_reminder_speaks_the_approvers_language_and_its_link_opens_the_approval_page(shop):
    approver = shop.approver(language="da")
    order, _ = waiting(shop, timezone.now() - datetime.timedelta(days=14), approver=approver)
    first_link = link_in(mails_to(approver)[0])
    assert approval_reminders_send() == 1
    reminder = reminders_to(approver)[0]
    assert reminder.subject.startswith("Påmindelse") and order.number in reminder.subject
    link = link_in(reminder)
    assert link != first_link
    client = verified_client(approver.user)
    detail = reverse("orders:detail", args=[order.pk])
    assert open_link(client, link)["Location"] == detail  # the link works: on to the approval page
    # The first e-mail's link works too: both are the same step's.
    assert open_link(client, first_link)["Location"] == detail


def test_the_reminders_link_expires_seven_days_after_it_was_sent(shop):
    approver = shop.approver()
    order, _ = waiting(shop, timezone.now() - datetime.timedelta(days=30), approver=approver)
    assert approval_reminders_send(now=timezone.now() - datetime.timedelta(days=8)) == 1
    page = open_link(verified_client(approver.user), link_in(reminders_to(approver)[0]))
    assert "expired" in page.content.decode()


def test_the_run_is_on_the_beat_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["orders-approval-reminders"]
    assert entry == {"task": "orders.tasks.approval_reminders", "schedule": 3600.0}


# Two runs at once -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_reminder(shop):
    """The beat started twice (two schedulers, or an hour overrun): each run locks the step before it
    writes the reminder, so the second waits, then finds it reminded."""
    from selfcare.outbox.models import OutboxMessage
    from tests.concurrency import run_held_at

    order, approver = waiting(shop, at(2026, 11, 2))
    run = run_held_at("orders.services._approval_email",
                      lambda: approval_reminders_send(now=at(2026, 11, 6)),
                      lambda: approval_reminders_send(now=at(2026, 11, 6)))
    assert sorted([run.first.value(), run.second.value()]) == [0, 1]
    assert run.second_while_held == "lock"
    assert OutboxMessage.objects.filter(recipient=approver.user.email, subject__startswith="Reminder").count() == 1
