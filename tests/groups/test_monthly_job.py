"""The monthly job: the moves that begin a month are recorded and told once, whatever happens."""

from datetime import date

import pytest

from accounts.models import AuditEvent
from accounts.permissions import Role
from groups import services
from groups.models import GroupMonth
from selfcare.outbox.models import OutboxMessage
from tests.concurrency import run_held_at
from tests.conftest import make_member
from tests.factories import SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group

DEC, JAN, FEB, MAR, APR = date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1)


def _estate(company):
    """Two Superusers; two lines in 2010 from December; one moves to 2020 in January, one in March."""
    with at(date(2026, 12, 5)):
        boss = make_member(company, Role.SUPERUSER, email="boss@nordlys.example")
        make_member(company, Role.SUPERUSER, email="second@nordlys.example")
        make_member(company, Role.READ_ONLY, email="reader@nordlys.example")
        category = make_category(company)
        g2010, g2020 = make_group(category, "2010"), make_group(category, "2020")
        january, march = SubscriptionFactory(company=company), SubscriptionFactory(company=company)
        for line in (january, march):
            services.membership_add(membership=boss, line=line, group=g2010, start=DEC)
        services.membership_move(membership=boss, line=january, group=g2020, month=JAN)
        services.membership_move(membership=boss, line=march, group=g2020, month=MAR)
    return january, march


def _moves():
    return AuditEvent.objects.filter(action=AuditEvent.Action.GROUP_MOVE_IN_FORCE)


def _summaries():
    return OutboxMessage.objects.filter(subject__startswith="Group changes in force")


@pytest.mark.django_db
def test_the_moves_of_a_month_are_recorded_and_told_once(company, settings):
    settings.LANGUAGE_CODE = "en"
    january, _march = _estate(company)
    services.group_months_apply(today=date(2026, 12, 20))  # December: the two lines joined 2010
    assert _moves().count() == 2
    _summaries().delete()
    applied = services.group_months_apply(today=date(2027, 1, 1))
    assert [(result.month, result.moves) for result in applied] == [(JAN, 1)]
    event = _moves().latest("pk")
    assert event.changes["group"] == ["Cost centre:2010", "Cost centre:2020"]
    assert january.number in event.changes["line"][1]
    mails = _summaries()
    assert sorted(mail.recipient for mail in mails) == ["boss@nordlys.example", "second@nordlys.example"]
    assert "Cost centre:2010 → Cost centre:2020" in mails[0].body
    # Again, later the same month: nothing new.
    assert services.group_months_apply(today=date(2027, 1, 15)) == []
    assert _moves().count() == 3 and _summaries().count() == 2


@pytest.mark.django_db
def test_months_missed_while_stopped_are_caught_up_in_order(company, settings):
    settings.LANGUAGE_CODE = "en"
    _estate(company)
    services.group_months_apply(today=date(2026, 12, 20))
    # Stopped from January to April: the next run applies January, February, March and April.
    applied = services.group_months_apply(today=date(2027, 4, 2))
    assert [(result.month, result.moves) for result in applied] == [(JAN, 1), (FEB, 0), (MAR, 1), (APR, 0)]
    assert list(GroupMonth.objects.filter(company=company).order_by("month").values_list("month", flat=True)) == [
        DEC, JAN, FEB, MAR, APR]
    assert _summaries().filter(subject__contains="2027-03").count() == 2
    assert not _summaries().filter(subject__contains="2027-02").exists()  # nothing moved: nothing to tell


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_apply_a_month_once(company, settings):
    settings.LANGUAGE_CODE = "en"
    _estate(company)
    services.group_months_apply(today=date(2026, 12, 20))
    _summaries().delete()

    def run():
        return services.group_months_apply(today=date(2027, 1, 3))

    result = run_held_at("groups.services._mail_month_summary", run, run)
    assert result.second_while_held == "lock", "the second run did not wait for the first one's month"
    assert len(result.first.value()) == 1 and result.second.value() == []
    assert GroupMonth.objects.filter(company=company, month=JAN).count() == 1
    assert _summaries().count() == 2
    assert _moves().filter(changes__start_month=[None, "2027-01"]).count() == 1


@pytest.mark.django_db
def test_the_beat_runs_the_job():
    from selfcare.celery import app

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "groups.tasks.group_months_due" in schedule and "groups.tasks.group_budgets_check" in schedule
