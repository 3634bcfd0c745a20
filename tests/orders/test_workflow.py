"""The status machine as data (selfcare.workflow), shown on orders: allowed moves, refusals, the timeline."""

from unittest import mock

import pytest
from django.utils import translation

from orders.models import Order, OrderEvent
from selfcare.workflow import SYSTEM, TransitionRefused, record_event, transition
from tests.conftest import make_member
from tests.factories import StaffUserFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_the_machine_names_only_statuses_the_model_has():
    Order.workflow.validate(Order)


def test_an_allowed_transition_changes_the_status_and_records_who_when_from_to_and_why(company):
    order = OrderFactory(company=company, account__company=company)
    user = make_member(company).user
    moved = transition(Order, pk=order.pk, to=Order.Status.RECEIVED, actor=user, reason="Straight on")
    assert moved.status == Order.Status.RECEIVED and moved.status_changed_at is not None
    event = OrderEvent.objects.get(subject=order)
    assert (event.from_status, event.to_status, event.actor, event.reason) == ("draft", "received", user, "Straight on")
    assert event.actor_label == user.full_name and event.company_id == company.pk


def test_a_transition_the_machine_does_not_list_is_refused_with_a_translated_message(company):
    order = OrderFactory(company=company, account__company=company)
    with translation.override("da"), pytest.raises(TransitionRefused) as refused:
        transition(Order, pk=order.pk, to=Order.Status.COMPLETED)
    assert "Kladde" in refused.value.messages[0] and "Gennemført" in refused.value.messages[0]
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT and not OrderEvent.objects.exists()


def test_a_row_that_moved_since_the_page_was_read_is_refused(company):
    order = OrderFactory(company=company, account__company=company, status=Order.Status.IN_PROGRESS)
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        transition(Order, pk=order.pk, to=Order.Status.REJECTED, expected={Order.Status.RECEIVED}, reason="x")
    assert "changed meanwhile" in refused.value.messages[0]
    assert Order.objects.get(pk=order.pk).status == Order.Status.IN_PROGRESS


def test_the_status_and_its_event_are_written_together_or_not_at_all(company):
    order = OrderFactory(company=company, account__company=company)
    with mock.patch.object(OrderEvent.objects, "create", side_effect=RuntimeError("disk full")), \
            pytest.raises(RuntimeError):
        transition(Order, pk=order.pk, to=Order.Status.RECEIVED)
    assert Order.objects.get(pk=order.pk).status == Order.Status.DRAFT


def test_the_transition_locks_the_row(company):
    order = OrderFactory(company=company, account__company=company)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        transition(Order, pk=order.pk, to=Order.Status.RECEIVED)
    assert any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)


def test_the_timeline_component_shows_each_step(company, client):
    from django.template.loader import render_to_string

    order = OrderFactory(company=company, account__company=company)
    transition(Order, pk=order.pk, to=Order.Status.RECEIVED)
    transition(Order, pk=order.pk, to=Order.Status.IN_PROGRESS)
    transition(Order, pk=order.pk, to=Order.Status.REJECTED, reason="Out of stock")
    with translation.override("en"):
        html = render_to_string("components/timeline.html", {"events": list(order.events.all())})
    assert html.index("Draft → Received by the operator") < html.index("In progress → Rejected")
    assert "Reason: Out of stock" in html


def test_the_demo_has_the_product_catalogue_and_a_mobile_chain():
    import io

    from django.core.management import call_command

    from orders.models import ApprovalChainMember, Product

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    names = set(Product.objects.values_list("name", flat=True))
    assert {"SIM-kort", "eSIM", "4G/5G-dongle", "Router 5G"} <= names and len(names) == 7
    member = ApprovalChainMember.objects.get()
    assert member.approver.email == "approver@nordlys.example" and member.chain.area == "mobile"


def test_the_timeline_says_who_a_person_the_operator_or_automatically(company):
    order = OrderFactory(company=company, account__company=company)
    customer, staff = make_member(company).user, StaffUserFactory()
    transition(Order, pk=order.pk, to=Order.Status.RECEIVED, actor=customer)
    transition(Order, pk=order.pk, to=Order.Status.IN_PROGRESS, actor=SYSTEM)
    transition(Order, pk=order.pk, to=Order.Status.SHIPPED, actor=staff, data={"note": "TRACK-1"})
    # An event from before the portal said who: no person, no flag.
    OrderEvent.objects.create(company=company, subject=order, from_status="shipped", to_status="shipped")
    events = list(order.events.order_by("at", "pk"))
    assert [event.data for event in events] == [{}, {"automatic": True}, {"note": "TRACK-1", "by_operator": True}, {}]
    assert events[1].actor is None and events[1].actor_label == ""
    assert events[2].actor == staff and events[2].actor_label == staff.full_name  # kept for the back office
    for language, automatically, operator in [("en", "Automatically", "the operator"), ("da", "Automatisk", "operatøren"),
                                              ("sv", "Automatiskt", "operatören")]:
        with translation.override(language):
            assert [event.by_label for event in events] == [customer.full_name, automatically, operator, operator]


def test_system_is_nobody_where_a_person_is_expected(company):
    from accounts.models import AuditEvent
    from accounts.services.audit import audit_record

    order = OrderFactory(company=company, account__company=company)
    event = record_event(item=order, from_status="draft", to_status="draft", actor=SYSTEM, kind="provisioning_busy")
    assert (event.actor, event.actor_label, event.data) == (None, "", {"automatic": True})
    audit = audit_record(action=AuditEvent.Action.APPROVAL_HANDED_OVER, actor=SYSTEM, company=company)
    assert (audit.actor, audit.actor_label, audit.by_operator) == (None, "", False)


@pytest.mark.parametrize(("app", "module"), [("orders", "0009_staff_events_by_operator"),
                                             ("tickets", "0005_staff_events_by_operator")])
def test_staff_events_from_before_the_flag_read_the_operator_after_the_migration(company, app, module):
    import importlib

    from django.apps import apps
    from django.db import connection

    from tickets.models import SupportCaseEvent
    from tests.tickets.factories import SupportCaseFactory

    customer, staff = make_member(company).user, StaffUserFactory()
    if app == "orders":
        subject, model = OrderFactory(company=company, account__company=company), OrderEvent
    else:
        subject, model = SupportCaseFactory(company=company), SupportCaseEvent
    # As written before events carried the flag: the staff member's name, nothing in data.
    older_staff = model.objects.create(company=company, subject=subject, from_status="a", to_status="b",
                                       actor=staff, actor_label=staff.full_name, data={"note": "x"})
    older_customer = model.objects.create(company=company, subject=subject, from_status="b", to_status="c",
                                          actor=customer, actor_label=customer.full_name)
    assert older_staff.by_label == staff.full_name
    migration = importlib.import_module(f"{app}.migrations.{module}")
    with connection.schema_editor() as editor:
        migration.mark_staff_events(apps, editor)
    older_staff.refresh_from_db()
    older_customer.refresh_from_db()
    with translation.override("en"):
        assert (older_staff.by_label, older_customer.by_label) == ("the operator", customer.full_name)
    assert older_staff.data == {"note": "x", "by_operator": True}
