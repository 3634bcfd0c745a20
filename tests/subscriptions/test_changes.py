"""Changes to subscriptions through the provisioning port and its simulator."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation

from accounts.permissions import ALL_PERMISSIONS, Permission
from subscriptions.models import ChangeRequest, SimCard, Subscription, SubscriptionEvent
from subscriptions.provisioning import ProvisioningUnavailable
from subscriptions.services import (
    MAX_ATTEMPTS,
    ChangeRefused,
    change_request_complete,
    change_request_create,
    change_request_retry,
    change_request_submit,
    change_requests_apply_due,
    first_of_next_month,
    iccid_is_valid,
)
from tests.conftest import make_member, wait_for
from tests.factories import (
    AddOnFactory,
    BillingAccountFactory,
    CompanyFactory,
    PricePlanFactory,
    SimCardFactory,
    SubscriptionFactory,
    iccid,
)

Action = ChangeRequest.Action


@pytest.fixture(autouse=True)
def _english():
    """The messages are read in English; a Danish login's request earlier in the thread must not decide."""
    with translation.override("en"):
        yield


@pytest.fixture
def line(db):
    return SubscriptionFactory(number="+45 20112233")


@pytest.fixture
def admin(line):
    return make_member(line.company)


def _through_the_port(change, ok=True):
    """What the worker and the simulator do, step by step, without waiting for them."""
    assert change_request_submit(change_id=change.pk) is True
    assert change_request_complete(change_id=change.pk, ok=ok) is True
    change.refresh_from_db()
    return change


# The whole way, with a real worker and the simulator ------------------------------------------------

def test_a_block_goes_through_the_worker_and_the_simulator(celery_worker, settings):
    settings.PROVISIONING_SIMULATOR_DELAY = 0.2
    line = SubscriptionFactory(number="+45 20112233")
    admin = make_member(line.company)
    with transaction.atomic():
        change = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                       params={"reason": "lost"})
    assert change.status == ChangeRequest.Status.PENDING
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).status == ChangeRequest.Status.COMPLETED)
    line.refresh_from_db()
    assert (line.status, line.block_reason) == (Subscription.Status.BLOCKED, "lost")
    change.refresh_from_db()
    assert change.operator_reference.startswith("SIM-") and change.attempts == 1
    event = SubscriptionEvent.objects.get(subscription=line, action=Action.BLOCK)
    assert event.actor == admin.user and event.before["status"] == "active" and event.after["status"] == "blocked"


def test_the_simulator_fails_chosen_numbers_and_the_failure_can_be_retried(celery_worker, settings):
    settings.PROVISIONING_SIMULATOR_DELAY = 0.2
    settings.PROVISIONING_SIMULATOR_FAIL_SUFFIXES = ["9999"]
    line = SubscriptionFactory(number="+45 20119999")
    admin = make_member(line.company)
    with transaction.atomic():
        change = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                       params={"reason": "stolen"})
    wait_for(lambda: ChangeRequest.objects.get(pk=change.pk).status == ChangeRequest.Status.FAILED)
    change.refresh_from_db()
    assert change.failure == ChangeRequest.Failure.REFUSED
    with translation.override("en"):
        assert "refused" in change.get_failure_display()
    line.refresh_from_db()
    assert line.status == Subscription.Status.ACTIVE  # nothing changed
    assert SubscriptionEvent.objects.filter(subscription=line, action="failed").count() == 1
    settings.PROVISIONING_SIMULATOR_FAIL_SUFFIXES = []
    with transaction.atomic():
        retry = change_request_retry(membership=admin, change_id=change.pk)
    assert retry.pk != change.pk and retry.params == {"reason": "stolen"}
    wait_for(lambda: ChangeRequest.objects.get(pk=retry.pk).status == ChangeRequest.Status.COMPLETED)
    line.refresh_from_db()
    assert line.status == Subscription.Status.BLOCKED


# One request, one effect -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_double_click_makes_one_request(line, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                      params={"reason": "lost"})
    second = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                   params={"reason": "lost"})
    assert first.pk == second.pk and ChangeRequest.objects.count() == 1 and len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_moment_make_one():
    """Two connections ask for the same change at once; the subscription's row lock orders them, and
    the second finds the first's open request instead of writing another."""
    line = SubscriptionFactory(number="+45 20112233")
    admin = make_member(line.company)
    barrier = threading.Barrier(2, timeout=15)
    results, errors = [], []

    def ask():
        try:
            barrier.wait()
            results.append(change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                                 params={"reason": "lost"}).pk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    assert len(set(results)) == 1 and ChangeRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_port_gets_a_change_once_and_is_retried_when_down(line, admin, monkeypatch):
    change = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                   params={"reason": "lost"})
    calls = []

    def down(self, change):
        calls.append(change.pk)
        raise ProvisioningUnavailable("BSS down")

    monkeypatch.setattr("subscriptions.provisioning.SimulatorBackend.submit", down)
    for _attempt in range(MAX_ATTEMPTS - 1):
        with pytest.raises(ProvisioningUnavailable):
            change_request_submit(change_id=change.pk)
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PENDING and change.attempts == MAX_ATTEMPTS - 1
    assert change_request_submit(change_id=change.pk) is False  # the last attempt gives up
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.FAILED and change.failure == ChangeRequest.Failure.UNAVAILABLE
    assert len(calls) == MAX_ATTEMPTS
    monkeypatch.undo()
    assert change_request_submit(change_id=change.pk) is False  # a failed change is never sent again


@pytest.mark.django_db
def test_an_answer_that_comes_twice_changes_nothing_the_second_time(line, admin):
    change = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                   params={"reason": "lost"})
    _through_the_port(change)
    assert change_request_submit(change_id=change.pk) is False
    assert change_request_complete(change_id=change.pk, ok=False) is False
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.COMPLETED
    assert SubscriptionEvent.objects.filter(subscription=line).count() == 1


@pytest.mark.django_db
def test_a_line_that_changed_meanwhile_fails_the_change(line, admin):
    change = change_request_create(membership=admin, subscription_id=line.pk, action=Action.BLOCK,
                                   params={"reason": "lost"})
    Subscription.objects.filter(pk=line.pk).update(status=Subscription.Status.TERMINATED)
    change = _through_the_port(change)
    assert change.status == ChangeRequest.Status.FAILED and change.failure == ChangeRequest.Failure.STATE_CHANGED


# Each change ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_unblock_plan_add_on_and_account_changes(line, admin):
    line.status, line.block_reason = Subscription.Status.BLOCKED, "lost"
    line.save()
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.UNBLOCK))
    line.refresh_from_db()
    assert (line.status, line.block_reason) == (Subscription.Status.ACTIVE, "")

    unlimited = PricePlanFactory(code="unlimited", name="Mobil Fri Ubegrænset")
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.CHANGE_PLAN,
                                            params={"plan_id": unlimited.pk, "when": "now"}))
    line.refresh_from_db()
    assert line.plan == unlimited

    roaming = AddOnFactory()
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.ADD_ADD_ON,
                                            params={"add_on_id": roaming.pk}))
    assert list(line.add_ons.all()) == [roaming]
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.REMOVE_ADD_ON,
                                            params={"add_on_id": roaming.pk}))
    assert not line.add_ons.exists()

    other_account = BillingAccountFactory(company=line.company)
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.MOVE_ACCOUNT,
                                            params={"account_id": other_account.pk}))
    line.refresh_from_db()
    assert line.account == other_account
    history = list(SubscriptionEvent.objects.filter(subscription=line).values_list("action", flat=True))
    assert history == ["move_account", "remove_add_on", "add_add_on", "change_plan", "unblock"]


@pytest.mark.django_db
def test_a_sim_change_moves_to_the_spare_card_and_an_esim_gets_its_activation_code(line, admin):
    old = SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.ACTIVE)
    spare = SimCardFactory(company=line.company, is_esim=True)
    _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.CHANGE_SIM,
                                            params={"iccid": spare.iccid}))
    old.refresh_from_db(), spare.refresh_from_db()
    assert old.status == SimCard.Status.REPLACED
    assert spare.status == SimCard.Status.ACTIVE and spare.subscription == line
    assert spare.activation_code.startswith("LPA:1$")


@pytest.mark.django_db
def test_puk_codes_are_encrypted_at_rest(line):
    sim = SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.ACTIVE)
    sim.set_puk_codes("11112222", "33334444")
    sim.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT puk1_encrypted, puk2_encrypted FROM subscriptions_simcard WHERE id = %s", [sim.pk])
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"11112222" not in raw and b"33334444" not in raw
    assert SimCard.objects.get(pk=sim.pk).puk_codes() == ("11112222", "33334444")


@pytest.mark.django_db
def test_a_plan_change_from_next_month_waits_for_its_date(line, admin):
    unlimited = PricePlanFactory(code="unlimited", name="Mobil Fri Ubegrænset")
    change = _through_the_port(change_request_create(
        membership=admin, subscription_id=line.pk, action=Action.CHANGE_PLAN,
        params={"plan_id": unlimited.pk, "when": "next_month"},
    ))
    first = first_of_next_month()
    assert change.status == ChangeRequest.Status.SCHEDULED and change.effective_date == first
    assert change_requests_apply_due(today=first - timedelta(days=1)) == 0
    line.refresh_from_db()
    assert line.plan != unlimited
    assert change_requests_apply_due(today=first) == 1
    assert change_requests_apply_due(today=first) == 0  # safe to run twice
    line.refresh_from_db()
    assert line.plan == unlimited


@pytest.mark.django_db
def test_a_cancellation_at_a_date_and_a_transfer(line, admin):
    today = timezone.localdate()
    change = _through_the_port(change_request_create(membership=admin, subscription_id=line.pk, action=Action.CANCEL,
                                                     effective_date=today))
    assert change.status == ChangeRequest.Status.COMPLETED
    line.refresh_from_db()
    assert line.status == Subscription.Status.TERMINATED
    other = SubscriptionFactory(account=line.account, number="+45 20113344")
    details = {"name": "Anna Jensen", "email": "anna@privat.example", "street": "Vej 1", "postal_code": "2100",
               "city": "København Ø"}
    change = _through_the_port(change_request_create(membership=admin, subscription_id=other.pk,
                                                     action=Action.TRANSFER, params=details,
                                                     effective_date=today + timedelta(days=14)))
    assert change.status == ChangeRequest.Status.SCHEDULED and change.params == details


# Refusals: a clear reason, and nothing written -------------------------------------------------------

def _refused(membership, line, action, params=None, effective_date=None, exception=ChangeRefused):
    with pytest.raises(exception) as refusal:
        change_request_create(membership=membership, subscription_id=line.pk, action=action, params=params,
                              effective_date=effective_date)
    assert not ChangeRequest.objects.exists()
    return " ".join(getattr(refusal.value, "messages", [str(refusal.value)]))


@pytest.mark.django_db
def test_bad_requests_are_refused_with_a_reason(line, admin):
    assert "lost, stolen or other" in _refused(admin, line, Action.BLOCK, {"reason": "bored"})
    assert "not blocked" in _refused(admin, line, Action.UNBLOCK)
    assert "price plans offered" in _refused(admin, line, Action.CHANGE_PLAN, {"plan_id": 999999})
    internet = PricePlanFactory(code="fiber", name="Fiber 1000/1000", type="internet")
    assert "price plans offered" in _refused(admin, line, Action.CHANGE_PLAN, {"plan_id": internet.pk})
    assert "already has this price plan" in _refused(admin, line, Action.CHANGE_PLAN, {"plan_id": line.plan_id})
    assert "valid ICCID" in _refused(admin, line, Action.CHANGE_SIM, {"iccid": "8945010000000000012"})
    foreign_spare = SimCardFactory()  # another company's spare card
    assert "no spare SIM card" in _refused(admin, line, Action.CHANGE_SIM, {"iccid": foreign_spare.iccid})
    foreign_account = BillingAccountFactory()
    assert "account numbers" in _refused(admin, line, Action.MOVE_ACCOUNT, {"account_id": foreign_account.pk})
    yesterday = timezone.localdate() - timedelta(days=1)
    assert "today or later" in _refused(admin, line, Action.CANCEL, effective_date=yesterday)
    assert "today or later" in _refused(admin, line, Action.CANCEL)
    assert "address" in _refused(admin, line, Action.TRANSFER, {"name": "Anna"}, timezone.localdate())
    line.status = Subscription.Status.TERMINATED
    line.save()
    assert "terminated" in _refused(admin, line, Action.BLOCK, {"reason": "lost"})


@pytest.mark.django_db
def test_a_line_outside_the_scope_is_not_found_and_a_missing_permission_refused(line):
    stranger = make_member(CompanyFactory())
    _refused(stranger, line, Action.BLOCK, {"reason": "lost"}, exception=Subscription.DoesNotExist)
    restricted = make_member(line.company, accounts=[BillingAccountFactory(company=line.company)])
    _refused(restricted, line, Action.BLOCK, {"reason": "lost"}, exception=Subscription.DoesNotExist)
    no_block = make_member(line.company, permissions=ALL_PERMISSIONS - {Permission.BLOCK_SIM})
    _refused(no_block, line, Action.BLOCK, {"reason": "lost"}, exception=PermissionDenied)


@pytest.mark.django_db
def test_a_restricted_login_cannot_move_a_line_to_an_account_outside_its_scope(line):
    outside = BillingAccountFactory(company=line.company)
    restricted = make_member(line.company, accounts=[line.account])
    assert "account numbers" in _refused(restricted, line, Action.MOVE_ACCOUNT, {"account_id": outside.pk})


def test_iccid_check_digit():
    assert iccid_is_valid(iccid(42))
    assert not iccid_is_valid(iccid(42)[:-1] + str((int(iccid(42)[-1]) + 1) % 10))
    assert not iccid_is_valid("1234567890123456789")
    assert first_of_next_month(date(2026, 12, 15)) == date(2027, 1, 1)
    assert first_of_next_month(date(2026, 1, 31)) == date(2026, 2, 1)
