"""The employee page: what a subscription is, the changes it offers, their progress, usage and history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import ALL_PERMISSIONS, Permission, Role
from subscriptions.models import ChangeRequest, SimCard, Subscription, SubscriptionEvent, UsageRecord
from subscriptions.services import change_request_complete, change_request_submit, invoice_note_set
from tests.conftest import make_member, verified_client
from tests.factories import AddOnFactory, BillingAccountFactory, PricePlanFactory, SimCardFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    return SubscriptionFactory(employee_name="Anna Jensen", number="+45 20112233", invoice_note="Afd. 3")


@pytest.fixture
def admin(line):
    return make_member(line.company)


def page(client, line) -> str:
    response = client.get(reverse("subscriptions:detail", args=[line.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_plan_add_ons_sim_cards_and_usage(line, admin):
    line.add_ons.add(AddOnFactory())
    SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.ACTIVE, iccid="8945010000000000125")
    UsageRecord.objects.create(company=line.company, subscription=line, period=timezone.localdate().replace(day=1),
                               data_mb=12_800, voice_minutes=95, sms_count=12)
    body = page(verified_client(admin.user), line)
    assert "Mobil Fri 50 GB" in body and "50 GB data" in body and "Roaming EU+" in body
    assert "8945010000000000125" in body and "Physical SIM card" in body
    assert "12.5 of 50 GB (25 %)" in body  # the chart's text; 12,800 MB is 12.5 GB
    assert 'width="25"' in body  # the bar
    assert "95 min" in body and 'data-label="Used"' in body and "No limit" in body  # the table beside it
    assert "Afd. 3" in body


def test_blocking_sends_a_change_and_the_page_follows_it_until_done(line, admin):
    client = verified_client(admin.user)
    response = client.post(reverse("subscriptions:change", args=[line.pk, "block"]), {"block-reason": "stolen"})
    assert response.status_code == 302 and response["Location"].endswith(f"/subscriptions/{line.pk}/#changes")
    change = ChangeRequest.objects.get(subscription=line)
    assert (change.action, change.params, change.requested_by) == ("block", {"reason": "stolen"}, admin.user)
    body = page(client, line)
    assert "sent to the operator" in body  # the message after the redirect
    fragment_url = reverse("subscriptions:changes", args=[line.pk])
    assert f'hx-get="{fragment_url}"' in body and 'hx-trigger="every 2s"' in body
    fragment = client.get(fragment_url, HTTP_HX_REQUEST="true").content.decode()
    assert "Pending" in fragment and "<html" not in fragment

    change_request_submit(change_id=change.pk)
    change_request_complete(change_id=change.pk, ok=True)
    fragment = client.get(fragment_url, HTTP_HX_REQUEST="true").content.decode()
    assert "Done" in fragment and "hx-trigger" not in fragment  # finished: the panel stops polling
    body = page(client, line)
    assert "Blocked" in body and "(Stolen)" in body
    assert "Status: Active → Blocked" in body  # the history
    assert "Unblock the SIM card" in body and "Block the SIM card" not in body


def test_a_failed_change_shows_its_reason_and_can_be_tried_again(line, admin):
    client = verified_client(admin.user)
    client.post(reverse("subscriptions:change", args=[line.pk, "block"]), {"block-reason": "lost"})
    change = ChangeRequest.objects.get(subscription=line)
    change_request_submit(change_id=change.pk)
    change_request_complete(change_id=change.pk, ok=False)
    body = page(client, line)
    assert "refused the change for this number" in body and "Try again" in body
    response = client.post(reverse("subscriptions:change_retry", args=[line.pk, change.pk]))
    assert response.status_code == 302
    assert ChangeRequest.objects.filter(subscription=line, status=ChangeRequest.Status.PENDING).count() == 1
    # A retry of a change that has not failed is not found.
    open_change = ChangeRequest.objects.get(status=ChangeRequest.Status.PENDING)
    assert client.post(reverse("subscriptions:change_retry", args=[line.pk, open_change.pk])).status_code == 404


@pytest.mark.parametrize("action, data, message", [
    ("block", {}, "This field is required."),
    ("change_sim", {"change_sim-iccid": "8945010000000000124"}, "not a valid ICCID"),
    ("change_sim", {"change_sim-iccid": "8945010000000000121"}, "no spare SIM card"),
    ("cancel", {"cancel-date": "2001-01-01"}, "today or later"),
    ("change_plan", {"change_plan-plan": "999999", "change_plan-when": "now"}, "Select a valid choice"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_sent(line, admin, action, data, message):
    response = verified_client(admin.user).post(reverse("subscriptions:change", args=[line.pk, action]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert '<details class="action" open>' in body  # the form with the error is the one shown open
    assert not ChangeRequest.objects.exists()


def test_an_unknown_change_is_not_found(line, admin):
    response = verified_client(admin.user).post(reverse("subscriptions:change", args=[line.pk, "explode"]))
    assert response.status_code == 404


def test_each_change_needs_its_own_permission(line):
    no_block = make_member(line.company, permissions=ALL_PERMISSIONS - {Permission.BLOCK_SIM})
    client = verified_client(no_block.user)
    body = page(client, line)
    assert "Block the SIM card" not in body and "Change price plan" in body
    response = client.post(reverse("subscriptions:change", args=[line.pk, "block"]), {"block-reason": "lost"})
    assert response.status_code == 403 and not ChangeRequest.objects.exists()

    read_only = make_member(line.company, Role.READ_ONLY)
    body = page(verified_client(read_only.user), line)
    assert "Change the subscription" not in body
    response = verified_client(read_only.user).post(reverse("subscriptions:invoice_note", args=[line.pk]),
                                                    {"invoice_note": "x"})
    assert response.status_code == 403


def test_a_terminated_line_offers_no_change(line, admin):
    line.status = Subscription.Status.TERMINATED
    line.save()
    body = page(verified_client(admin.user), line)
    assert "Change the subscription" not in body
    response = verified_client(admin.user).post(reverse("subscriptions:change", args=[line.pk, "block"]),
                                                {"block-reason": "lost"})
    assert response.status_code == 200 and "terminated" in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_moving_the_account_offers_only_the_logins_own_accounts(line):
    mine = BillingAccountFactory(company=line.company, number="11110001")
    hidden = BillingAccountFactory(company=line.company, number="11110002")
    restricted = make_member(line.company, accounts=[line.account, mine])
    body = page(verified_client(restricted.user), line)
    assert "11110001" in body and "11110002" not in body
    response = verified_client(restricted.user).post(reverse("subscriptions:change", args=[line.pk, "move_account"]),
                                                     {"move_account-account": hidden.pk})
    assert response.status_code == 200 and not ChangeRequest.objects.exists()


def test_the_invoice_note_is_saved_at_once_with_its_history(line, admin):
    client = verified_client(admin.user)
    response = client.post(reverse("subscriptions:invoice_note", args=[line.pk]), {"invoice_note": "Afd. 7"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.invoice_note == "Afd. 7"
    event = SubscriptionEvent.objects.get(subscription=line, action="invoice_note")
    assert event.summary() == "Invoice note: Afd. 3 → Afd. 7" and event.actor == admin.user
    too_long = client.post(reverse("subscriptions:invoice_note", args=[line.pk]), {"invoice_note": "x" * 101})
    assert too_long.status_code == 200 and "at most 100 characters" in too_long.content.decode()
    line.refresh_from_db()
    assert line.invoice_note == "Afd. 7"


def test_an_active_esim_shows_its_qr_code_and_nothing_else_does(line, admin):
    esim = SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.ACTIVE, is_esim=True,
                          activation_code="LPA:1$smdp.selfcare.example$ABC123")
    client = verified_client(admin.user)
    body = page(client, line)
    qr_url = reverse("subscriptions:esim_qr", args=[line.pk, esim.pk])
    assert qr_url in body
    response = client.get(qr_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and response["Cache-Control"] == "private, no-store"
    physical = SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.REPLACED)
    assert client.get(reverse("subscriptions:esim_qr", args=[line.pk, physical.pk])).status_code == 404
    other_line = SubscriptionFactory(account=line.account)
    assert client.get(reverse("subscriptions:esim_qr", args=[other_line.pk, esim.pk])).status_code == 404


def test_the_page_costs_the_same_queries_however_long_its_history(line, admin):
    client = verified_client(admin.user)
    page(client, line)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page(client, line)
        return len(captured)

    few = queries()
    for index in range(40):
        invoice_note_set(membership=admin, subscription_id=line.pk, invoice_note=f"Afd. {index}")
        ChangeRequest.objects.create(company=line.company, subscription=line, action="cancel",
                                     status=ChangeRequest.Status.FAILED, failure="refused", requested_by=admin.user)
    line.add_ons.add(AddOnFactory(), AddOnFactory(code="extra", name="Ekstra data"))
    PricePlanFactory(code="other", name="Mobil Basis 10 GB")
    assert queries() == few


def test_puk_codes_are_shown_on_a_deliberate_click_audited_and_limited(line, admin, settings):
    from accounts.models import AuditEvent
    from subscriptions.services import PUK_LOOKUPS_PER_HOUR

    sim = SimCardFactory(company=line.company, subscription=line, status=SimCard.Status.ACTIVE)
    sim.set_puk_codes("11223344", "55667788")
    sim.save()
    client = verified_client(admin.user)
    body = page(client, line)
    assert "Show PUK codes" in body and "11223344" not in body  # never on the page by itself
    response = client.post(reverse("subscriptions:puk", args=[line.pk]), HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert "11223344" in fragment and "55667788" in fragment and "<html" not in fragment
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PUK_VIEWED)
    assert event.company == line.company and event.actor == admin.user
    assert sim.iccid in str(event.changes) and "11223344" not in str(event.changes)
    for _lookup in range(PUK_LOOKUPS_PER_HOUR - 1):
        assert "11223344" in client.post(reverse("subscriptions:puk", args=[line.pk])).content.decode()
    refused = client.post(reverse("subscriptions:puk", args=[line.pk])).content.decode()
    assert "11223344" not in refused and "Try again next hour" in refused
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PUK_VIEWED).count() == PUK_LOOKUPS_PER_HOUR


def test_puk_codes_need_their_permission_and_a_sim_card(line):
    no_puk = make_member(line.company, permissions=ALL_PERMISSIONS - {Permission.VIEW_PUK})
    client = verified_client(no_puk.user)
    assert "Show PUK codes" not in page(client, line)
    assert client.post(reverse("subscriptions:puk", args=[line.pk])).status_code == 403
    admin = make_member(line.company)
    body = verified_client(admin.user).post(reverse("subscriptions:puk", args=[line.pk])).content.decode()
    assert "no SIM card in use" in body


def test_the_history_names_the_customers_own_people_and_never_the_operators_staff(line, admin):
    from django.utils import translation

    from tests.factories import StaffUserFactory

    staff = StaffUserFactory(full_name="Sigurd Backoffice")
    for actor in (admin.user, staff):
        SubscriptionEvent.objects.create(company=line.company, subscription=line, actor=actor,
                                         actor_label=actor.full_name, action="invoice_note",
                                         before={"invoice_note": "a"}, after={"invoice_note": "b"})
    client = verified_client(admin.user)
    body = page(client, line)
    assert admin.user.full_name in body
    assert "Sigurd Backoffice" not in body
    with translation.override("en"):
        assert [event.by_label for event in line.events.order_by("pk")] == [admin.user.full_name, "the operator"]
