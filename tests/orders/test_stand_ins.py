"""Stand-ins: during an approver's absence new steps go to the stand-in, and so do those already waiting;
each hand-over shows on the order. The clock is controlled by passing the day."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderApproval
from orders.services import OrderRefused, absence_clear, absence_set, absences_hand_over_due, order_decide
from tests.conftest import verified_client
from tests.orders.test_approvals import chain, link_in, mails_to, step_of, submit
from tests.orders.test_links import open_link

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def test_waiting_steps_move_to_the_stand_in_when_the_absence_starts_today(shop):
    first, stand_in = shop.approver(), shop.approver()
    chain(shop, first)
    order = submit(shop)
    old_link = link_in(mails_to(first)[0])
    absence_set(membership=first, stand_in_id=stand_in.user_id, starts_on=TODAY, ends_on=TODAY + 5 * DAY)
    step = step_of(order)
    assert step.approver == stand_in.user and step.stands_in_for == first.user
    assert "You stand in for" in mails_to(stand_in)[0].body
    assert order.events.filter(kind="handed_on").count() == 1
    assert "You are away" in open_link(verified_client(first.user), old_link).content.decode()
    page = verified_client(shop.orderer.user).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Approval handed on" in page and "who is away" in page
    order_decide(membership=stand_in, order_id=order.pk, step_id=step.pk, approve=True)
    assert OrderApproval.objects.get(pk=step.pk).status == "approved"


def test_new_steps_go_to_the_stand_in_during_the_period_only(shop):
    first, stand_in = shop.approver(), shop.approver()
    chain(shop, first)
    absence_set(membership=first, stand_in_id=stand_in.user_id, starts_on=TODAY, ends_on=TODAY)
    assert step_of(submit(shop)).approver == stand_in.user
    absence_clear(membership=first)
    assert step_of(submit(shop)).approver == first.user


def test_a_later_absence_hands_over_when_it_begins(shop):
    first, stand_in = shop.approver(), shop.approver()
    chain(shop, first)
    order = submit(shop)
    absence_set(membership=first, stand_in_id=stand_in.user_id, starts_on=TODAY + 2 * DAY, ends_on=TODAY + 9 * DAY)
    assert step_of(order).approver == first.user  # not yet
    assert absences_hand_over_due(today=TODAY + DAY) == 0
    # The daily run on the first day away (the service takes the day; the beat task passes today).
    from unittest import mock

    with mock.patch("orders.services.timezone.localdate", return_value=TODAY + 2 * DAY):
        assert absences_hand_over_due() == 1
    assert step_of(order).approver == stand_in.user
    handed_on = order.events.get(kind="handed_on")
    assert handed_on.data.get("automatic") is True and handed_on.actor is None  # the daily run, not a person


def test_the_stand_in_must_hold_approve_orders_and_the_period_make_sense(shop):
    first = shop.approver()
    with pytest.raises(OrderRefused) as refused:
        absence_set(membership=first, stand_in_id=shop.orderer.user_id, starts_on=TODAY, ends_on=TODAY)
    assert "stand_in" in refused.value.message_dict
    with pytest.raises(OrderRefused):
        absence_set(membership=first, stand_in_id=first.user_id, starts_on=TODAY, ends_on=TODAY)
    with pytest.raises(OrderRefused) as refused:
        absence_set(membership=first, stand_in_id=shop.approver().user_id, starts_on=TODAY, ends_on=TODAY - DAY)
    assert "ends_on" in refused.value.message_dict


def test_the_absence_page(shop):
    first, stand_in = shop.approver(), shop.approver()
    client = verified_client(first.user)
    assert stand_in.user.full_name in client.get(reverse("orders:absence")).content.decode()
    response = client.post(reverse("orders:absence"), {"stand_in": stand_in.user_id, "starts_on": TODAY.isoformat(),
                                                       "ends_on": (TODAY + DAY).isoformat()})
    assert response.status_code == 302
    assert "stands in" in client.get(reverse("orders:absence")).content.decode()
    client.post(reverse("orders:absence"), {"clear": "1"})
    assert "stands in" not in client.get(reverse("orders:absence")).content.decode()


# The audit log ------------------------------------------------------------------------------------------

def _hand_overs():
    from accounts.models import AuditEvent

    return list(AuditEvent.objects.filter(action=AuditEvent.Action.APPROVAL_HANDED_OVER).order_by("pk"))


def test_every_hand_over_is_recorded_in_the_audit_log(shop):
    first, stand_in = shop.approver(), shop.approver()
    chain(shop, first)
    waiting_order = submit(shop)
    assert _hand_overs() == []
    # A step already waiting moves: recorded, by the approver who set the absence.
    absence_set(membership=first, stand_in_id=stand_in.user_id, starts_on=TODAY, ends_on=TODAY + 2 * DAY)
    moved, = _hand_overs()
    assert moved.company_id == shop.company.pk and moved.actor == first.user and moved.target_user == first.user
    assert moved.changes == {"order": [None, waiting_order.number], "approver": [first.user.email, stand_in.user.email]}
    # A new step during the absence goes to the stand-in: recorded too, by the colleague who submitted.
    new_order = submit(shop)
    new = _hand_overs()[1]
    assert new.actor == shop.orderer.user and new.changes["order"] == [None, new_order.number]
    assert len(_hand_overs()) == 2  # nothing else was recorded as a hand-over

    # The Superuser reads it in the company's audit log, in words.
    page = verified_client(shop.superuser().user).get(reverse("accounts:audit_log")).content.decode()
    assert "Order approval handed to a stand-in" in page and new_order.number in page


def test_the_daily_run_records_its_hand_overs_without_an_actor(shop):
    from unittest import mock

    first, stand_in = shop.approver(), shop.approver()
    chain(shop, first)
    submit(shop)
    absence_set(membership=first, stand_in_id=stand_in.user_id, starts_on=TODAY + DAY, ends_on=TODAY + 3 * DAY)
    assert _hand_overs() == []
    with mock.patch("orders.services.timezone.localdate", return_value=TODAY + DAY):
        assert absences_hand_over_due() == 1
    event, = _hand_overs()
    assert event.actor is None and event.target_user == first.user


def test_no_hand_over_is_recorded_without_an_absence(shop):
    first = shop.approver()
    chain(shop, first)
    submit(shop)
    assert _hand_overs() == []
