"""Bulk actions from the subscription list: the selection, the confirmation page, the job it starts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.permissions import Permission, Role
from selfcare.jobs.models import Job
from selfcare.jobs.services import job_run
from subscriptions.bulk import JOB_KIND
from subscriptions.models import Subscription
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

LIST = reverse("subscriptions:list")
BULK = reverse("subscriptions:bulk")


@pytest.fixture(autouse=True)
def _language_restored():
    """A Danish or Swedish login's request activates its language in this thread; later tests read English."""
    with translation.override("en"):
        yield


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def account(company):
    return BillingAccountFactory(company=company)


@pytest.fixture
def lines(account):
    return [SubscriptionFactory(account=account, employee_name=f"Ansat {name}") for name in ("Alfa", "Beta", "Gamma")]


@pytest.fixture
def admin_client(company):
    client = verified_client(make_member(company).user)
    return stepped_up(client)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def confirm_data(response, **fields) -> dict:
    """The confirmation form's hidden fields (token, expected) as the page rendered them, plus ``fields``."""
    html = response.content.decode()
    data = {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("token", "expected")}
    return {**data, **fields}


def ticked(action, ids, **extra):
    return {"bulk_action": action, "bulk_scope": "selected", "bulk_ids": [str(pk) for pk in ids], **extra}


# The list offers the selection --------------------------------------------------------------------

def test_the_list_offers_checkboxes_and_the_actions_the_member_may_do(lines, company):
    member = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS, Permission.BLOCK_SIM})
    client = verified_client(member.user)
    html = client.get(LIST).content.decode()
    assert f'action="{BULK}"' in html
    for line in lines:
        assert f'name="bulk_ids" value="{line.pk}" aria-label="Select {line.employee_name} (' in html
        assert f'name="bulk_page_ids" value="{line.pk}"' in html
    actions = re.findall(r'<option value="([a-z_]+)">', html.split('id="bulk-action"')[1].split("</select>")[0])
    assert actions == ["block", "unblock"]  # no plan, note or account changes without "Manage subscriptions"
    assert "All 3 lines in the list" in text(client.get(LIST))


def test_a_read_only_member_gets_no_selection(lines, company):
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    html = client.get(LIST).content.decode()
    assert "bulk_ids" not in html and BULK not in html


def test_the_htmx_fragment_keeps_the_selection_with_the_list_state(lines, admin_client):
    html = admin_client.get(LIST, {"q": "Beta", "sort": "-number"}, HTTP_HX_REQUEST="true").content.decode()
    assert '<input type="hidden" name="q" value="Beta">' in html
    assert '<input type="hidden" name="sort" value="-number">' in html
    assert "The 1 line that matches" in " ".join(html.split())


# The confirmation ---------------------------------------------------------------------------------

def test_ticked_lines_are_counted_and_confirming_starts_one_job(lines, admin_client):
    ids = [lines[0].pk, lines[2].pk]
    page = admin_client.get(BULK, ticked("invoice_note", ids))
    assert page.status_code == 200
    assert "2 lines will change." in text(page)
    response = admin_client.post(BULK + "?" + page.wsgi_request.GET.urlencode(),
                                 confirm_data(page, invoice_note="Afd. 7"))
    job = Job.objects.get(kind=JOB_KIND)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.params == {"action": "invoice_note", "params": {"invoice_note": "Afd. 7"}, "ids": ids,
                          "token": job.params["token"]}
    assert job.total == 2 and job.return_url == LIST
    # The same form sent again (a double click, the back button) leads to the same job.
    again = admin_client.post(BULK + "?" + page.wsgi_request.GET.urlencode(), confirm_data(page, invoice_note="Afd. 7"))
    assert again["Location"] == response["Location"] and Job.objects.count() == 1
    job_run(job_id=job.pk)
    assert [s.invoice_note for s in Subscription.objects.order_by("pk")] == ["Afd. 7", "", "Afd. 7"]


def test_all_lines_that_match_are_the_lists_lines(account, admin_client):
    for index in range(7):
        SubscriptionFactory(account=account, employee_name=f"Salg {index}")
    SubscriptionFactory(account=account, employee_name="Lager 1", status=Subscription.Status.BLOCKED)
    SubscriptionFactory(account=account, employee_name="Salg blocked", status=Subscription.Status.BLOCKED)
    SubscriptionFactory(employee_name="Salg elsewhere")  # another company's
    state = {"q": "salg", "sort": "-employee"}
    listed = admin_client.get(LIST, state)
    assert "8 lines match" in text(listed)
    page = admin_client.get(BULK, {**state, "bulk_action": "block", "bulk_scope": "all"})
    assert "8 lines will change." in text(page)
    assert "1 of them cannot take this change now" in text(page)
    admin_client.post(page.wsgi_request.get_full_path(), confirm_data(page, reason="lost"))
    job = Job.objects.get()
    expected = Subscription.objects.filter(company=account.company, employee_name__icontains="salg")
    assert sorted(job.params["ids"]) == sorted(expected.values_list("pk", flat=True))
    assert job.return_url == LIST + "?q=salg&sort=-employee"


def test_when_the_matching_lines_change_before_confirming_the_page_says_so(account, lines, admin_client):
    page = admin_client.get(BULK, {"bulk_action": "block", "bulk_scope": "all"})
    assert "3 lines will change." in text(page)
    SubscriptionFactory(account=account)
    response = admin_client.post(page.wsgi_request.get_full_path(), confirm_data(page, reason="lost"))
    assert response.status_code == 409
    assert "The number of matching lines has changed" in text(response) and "4 lines will change." in text(response)
    assert not Job.objects.exists()
    # Confirmed again with the new number, it starts.
    again = admin_client.post(page.wsgi_request.get_full_path(), confirm_data(response, reason="lost"))
    assert again.status_code == 302 and len(Job.objects.get().params["ids"]) == 4


def test_all_that_match_with_a_refused_filter_is_not_every_line(lines, admin_client):
    """Another company's account number as the filter: the list refuses the filter (and says so), so "all
    that match" must not quietly become every line of the company."""
    foreign_account = BillingAccountFactory()
    params = {"account": foreign_account.pk, "bulk_action": "block", "bulk_scope": "all"}
    page = admin_client.get(BULK, params)
    assert page.status_code == 400
    assert "A filter of the list was refused" in text(page) and "will change" not in text(page)
    response = admin_client.post(page.wsgi_request.get_full_path(), {"token": "x" * 32, "expected": 3,
                                                                      "reason": "lost"})
    assert response.status_code == 400 and not Job.objects.exists()


def test_foreign_ids_in_a_crafted_selection_change_nothing_and_the_result_says_so(lines, admin_client):
    foreign = SubscriptionFactory(employee_name="Fremmed", invoice_note="Their note")
    ids = [lines[0].pk, foreign.pk, 987654321]
    page = admin_client.get(BULK, ticked("invoice_note", ids))
    assert "1 line will change." in text(page)
    assert "2 of the chosen lines were not found or are not yours" in text(page)
    assert "Fremmed" not in text(page)
    admin_client.post(page.wsgi_request.get_full_path(), confirm_data(page, invoice_note="Mine"))
    job = Job.objects.get()
    job_run(job_id=job.pk)
    job.refresh_from_db()
    result = job.result.open("rb").read().decode("utf-8-sig")
    assert f"{foreign.pk},,,Not found,\"Not found, or not one of your lines.\"" in result
    assert "Fremmed" not in result and "Their note" not in result
    foreign.refresh_from_db()
    assert foreign.invoice_note == "Their note"
    assert (job.processed, job.failed) == (3, 2)


def test_a_restricted_login_counts_and_changes_only_its_own_account_numbers(company, account, lines):
    outside = SubscriptionFactory(account=BillingAccountFactory(company=company))
    client = stepped_up(verified_client(make_member(company, accounts=[account]).user))
    page = client.get(BULK, {"bulk_action": "block", "bulk_scope": "all"})
    assert "3 lines will change." in text(page)
    page = client.get(BULK, ticked("block", [lines[0].pk, outside.pk]))
    assert "1 line will change." in text(page)


def test_bad_input_is_said_and_starts_nothing(lines, admin_client):
    page = admin_client.get(BULK, ticked("block", [lines[0].pk]))
    response = admin_client.post(page.wsgi_request.get_full_path(), confirm_data(page))
    assert response.status_code == 400 and "This field is required." in text(response)
    nothing = admin_client.get(BULK, ticked("block", []))
    assert "Tick the lines to change" in text(nothing) and 'type="submit"' not in nothing.content.decode().split(
        "<main")[1].split("</main>")[0].replace('name="language"', "")
    unknown = admin_client.get(BULK, ticked("reboot", [lines[0].pk]))
    assert "Choose what to change" in text(unknown)
    assert not Job.objects.exists()


@pytest.mark.parametrize(("action", "permission"), [
    ("block", Permission.BLOCK_SIM), ("unblock", Permission.BLOCK_SIM),
    ("change_plan", Permission.MANAGE_SUBSCRIPTIONS),
    ("move_account", Permission.MANAGE_SUBSCRIPTIONS), ("invoice_note", Permission.MANAGE_SUBSCRIPTIONS),
])
def test_an_action_without_its_permission_is_refused(company, lines, action, permission):
    other = {Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS} - {permission}
    client = stepped_up(verified_client(make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS, *other}).user))
    assert client.get(BULK, ticked(action, [lines[0].pk])).status_code == 403
    assert client.post(BULK + "?" + "&".join(f"{k}={v}" for k, v in (("bulk_action", action),
                       ("bulk_ids", lines[0].pk))), {"token": "t" * 24, "expected": 1}).status_code == 403
    assert not Job.objects.exists()


def test_the_confirmation_needs_the_step_up(company, lines):
    client = verified_client(make_member(company).user)
    query = {"bulk_action": "block", "bulk_scope": "selected", "bulk_ids": lines[0].pk}
    response = client.get(BULK, query)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    assert "bulk_action" in response["Location"]  # and comes back to the same selection
    stepped_up(client)
    assert "1 line will change." in text(client.get(BULK, query))


def test_the_confirmation_costs_the_same_queries_for_3_or_300_lines(account, lines, admin_client):
    def queries(action):
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(BULK, {"bulk_action": action, "bulk_scope": "all"})
        assert response.status_code == 200
        return len(captured)

    few = {action: queries(action) for action in ("block", "move_account", "change_plan")}
    Subscription.objects.bulk_create([
        Subscription(company=account.company, account=account, number=f"+45 3{n:07d}", employee_name=f"X {n}")
        for n in range(300)
    ])
    many = {action: queries(action) for action in ("block", "move_account", "change_plan")}
    assert many == few
    assert few["block"] <= 12, few


@pytest.mark.parametrize(("language", "summary", "button", "choice"), [
    ("da", "2 linjer bliver ændret.", "Ændr 2 linjer", "Alle 3 linjer på listen"),
    ("sv", "2 linjer ändras.", "Ändra 2 linjer", "Alla 3 linjer i listan"),
])
def test_the_selection_and_the_confirmation_speak_the_logins_language(company, lines, language, summary, button,
                                                                      choice):
    client = stepped_up(verified_client(make_member(company, language=language).user))
    assert choice in text(client.get(LIST))
    page = text(client.get(BULK, ticked("block", [lines[0].pk, lines[1].pk])))
    assert summary in page and button in page
