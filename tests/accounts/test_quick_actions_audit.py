"""The overview's quick actions are in the company's audit log (issue 13, item 5): a SIM card change
records who asked for which line and which card, a PUK look-up that it happened and for which line,
never the codes. Both show on the company's audit log page."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.permissions import Role
from subscriptions.models import SimCard
from tests.conftest import make_member, verified_client
from tests.factories import CompanyFactory, SimCardFactory, SubscriptionFactory, iccid

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


@pytest.fixture
def line(company, account):
    line = SubscriptionFactory(company=company, account=account, number="+45 21234567", employee_name="Karen Blixen")
    SimCardFactory(company=company, subscription=line, status=SimCard.Status.ACTIVE, iccid=iccid(1))
    return line


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER, full_name="Bo Boss", email="bo@nordlys.example").user


def audit_page(user) -> str:
    return verified_client(user).get(reverse("accounts:audit_log")).content.decode()


def test_a_quick_sim_swap_is_recorded_with_the_line_and_both_cards(company, line, boss):
    spare = SimCardFactory(company=company, iccid=iccid(2), status=SimCard.Status.SPARE)
    client = verified_client(boss)
    response = client.post(reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": spare.iccid})
    assert "is sent to the operator" in response.content.decode()
    event = AuditEvent.objects.get(action=Action.SIM_CHANGE_REQUESTED)
    assert (event.company, event.actor, event.actor_label) == (company, boss, "bo@nordlys.example")
    assert event.changes == {"number": [None, "+45 21234567"], "iccid": [iccid(1), spare.iccid]}
    assert event.ip_address == "127.0.0.1"
    # The same change asked again while it is open is the same request: recorded once.
    client.post(reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": spare.iccid})
    assert AuditEvent.objects.filter(action=Action.SIM_CHANGE_REQUESTED).count() == 1
    page = audit_page(boss)
    assert "SIM card change requested" in page and f"{iccid(1)} → {spare.iccid}" in page


def test_a_refused_sim_swap_records_nothing(company, line, boss):
    verified_client(boss).post(reverse("overview_sim_swap"), {"sim-number": "21234567", "sim-iccid": iccid(99)})
    foreign = SubscriptionFactory(company=CompanyFactory(), number="+45 29998877")
    spare = SimCardFactory(company=company, iccid=iccid(3), status=SimCard.Status.SPARE)
    verified_client(boss).post(reverse("overview_sim_swap"), {"sim-number": foreign.number, "sim-iccid": spare.iccid})
    assert not AuditEvent.objects.filter(action=Action.SIM_CHANGE_REQUESTED).exists()


def test_the_employee_pages_sim_change_is_recorded_too(company, line, boss):
    spare = SimCardFactory(company=company, iccid=iccid(4), status=SimCard.Status.SPARE)
    verified_client(boss).post(reverse("subscriptions:change", args=[line.pk, "change_sim"]), {"change_sim-iccid": spare.iccid})
    event = AuditEvent.objects.get(action=Action.SIM_CHANGE_REQUESTED)
    assert event.changes["iccid"] == [iccid(1), spare.iccid]


def test_a_quick_puk_look_up_is_recorded_for_the_line_without_the_codes(company, line, boss):
    sim = line.sim_cards.get()
    puk1, puk2 = sim.puk_codes()
    response = verified_client(boss).post(reverse("overview_puk"), {"puk-number": "21 23 45 67"})
    assert puk1 in response.content.decode()
    event = AuditEvent.objects.get(action=Action.PUK_VIEWED)
    assert (event.company, event.actor) == (company, boss)
    assert event.changes == {"number": [None, "+45 21234567"], "iccid": [None, sim.iccid]}
    page = audit_page(boss)
    assert "PUK codes shown" in page and "+45 21234567" in page
    assert puk1 not in page and puk2 not in page
    assert puk1 not in str(AuditEvent.objects.values_list("changes", flat=True)[::1])
