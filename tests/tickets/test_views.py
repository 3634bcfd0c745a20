"""The Support pages as a user meets them: forms started from a subscription's page, bad input, the lists,
what a read-only login sees, and what never reaches a customer page or an export."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.permissions import Permission, Role
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, ConnectionFactory, StaffUserFactory, SubscriptionFactory
from tests.tenancy import response_text
from tests.tickets.factories import FaultReportFactory, SupportCaseFactory
from tickets.models import CaseMessage, FaultReport, SupportCase
from tickets.services import case_operator_reply
from tickets.views import CASE_COLUMNS, FAULT_COLUMNS

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(company):
    return make_member(company, Role.ORDERER, full_name="Sofie Jensen", email="sofie@nordlys.example")


@pytest.fixture
def client_for(member):
    return verified_client(member.user)


def case_post(**changes):
    return {"idempotency_key": str(uuid.uuid4()), "area": "mobile", "service": "sim", "subject": "New SIM",
            "description": "The SIM card is broken.", "contact_name": "Sofie Jensen",
            "contact_email": "sofie@nordlys.example", "contact_method": "email", "action": "submit", **changes}


# Started from a page: prefilled and locked ------------------------------------------------------------------

def test_the_employee_page_starts_a_case_and_a_fault_report_for_its_subscription(company, client_for):
    line = SubscriptionFactory(company=company, number="+4522334455", employee_name="Karen Blixen")
    page = client_for.get(reverse("subscriptions:detail", args=[line.pk])).content.decode()
    case_url = f'{reverse("tickets:case_create")}?subscription={line.pk}'
    fault_url = f'{reverse("tickets:fault_create")}?subscription={line.pk}'
    assert f'href="{case_url}"' in page and f'href="{fault_url}"' in page
    form = client_for.get(case_url).content.decode()
    assert "+4522334455" in form and "Karen Blixen" in form and 'name="subscription_number"' not in form
    # A number posted anyway does not change what the case concerns.
    other = SubscriptionFactory(company=company, number="+4599887766")
    response = client_for.post(case_url, case_post(subscription_number=other.number))
    case = SupportCase.objects.get()
    assert response.status_code == 302 and case.subscription == line and case.account == line.account


def test_the_connection_and_account_pages_start_a_case_for_them(company, client_for):
    circuit = ConnectionFactory(company=company)
    page = client_for.get(reverse("subscriptions:connection_detail", args=[circuit.pk])).content.decode()
    assert f'?connection={circuit.pk}' in page
    client_for.post(f'{reverse("tickets:case_create")}?connection={circuit.pk}', case_post(area="data",
                                                                                          service="internet"))
    assert SupportCase.objects.get().connection == circuit
    account = BillingAccountFactory(company=company)
    page = client_for.get(reverse("subscriptions:account_detail", args=[account.pk])).content.decode()
    assert f'?account={account.pk}' in page


def test_a_page_of_another_company_or_outside_the_scope_cannot_start_a_case(company, other_company):
    mine = BillingAccountFactory(company=company)
    restricted = verified_client(make_member(company, Role.ORDERER, accounts=[mine]).user)
    for line in (SubscriptionFactory(company=other_company), SubscriptionFactory(company=company)):
        for name in ("tickets:case_create", "tickets:fault_create"):
            url = f"{reverse(name)}?subscription={line.pk}"
            assert restricted.get(url).status_code == 404
            assert restricted.post(url, case_post()).status_code == 404
    assert not SupportCase.objects.exists() and not FaultReport.objects.exists()


def test_a_number_typed_on_the_form_must_be_in_the_scope(company, other_company):
    mine = BillingAccountFactory(company=company)
    restricted = verified_client(make_member(company, Role.ORDERER, accounts=[mine]).user)
    outside = SubscriptionFactory(company=company, number="+4511112222")
    response = restricted.post(reverse("tickets:case_create"), case_post(subscription_number=outside.number))
    assert response.status_code == 200
    assert "No subscription with this number that you have access to." in response.content.decode()
    assert not SupportCase.objects.exists()


def test_the_fault_report_form_asks_what_the_product_area_needs(company, client_for):
    mobile = SubscriptionFactory(company=company, type="mobile")
    data_line = ConnectionFactory(company=company)
    fixed = SubscriptionFactory(company=company, type="telephony")
    form = client_for.get(f'{reverse("tickets:fault_create")}?subscription={mobile.pk}').content.decode()
    assert 'name="location"' in form and 'name="started_at"' in form and 'name="equipment_restarted"' not in form
    form = client_for.get(f'{reverse("tickets:fault_create")}?connection={data_line.pk}').content.decode()
    assert 'name="equipment_restarted"' in form and 'name="location"' not in form
    form = client_for.get(f'{reverse("tickets:fault_create")}?subscription={fixed.pk}').content.decode()
    assert 'name="symptom"' in form and 'name="started_at"' not in form and 'name="location"' not in form
    # Sent without "where": said beside the field, nothing written.
    response = client_for.post(f'{reverse("tickets:fault_create")}?subscription={mobile.pk}', {
        "idempotency_key": str(uuid.uuid4()), "symptom": "calls", "started_at": "2026-12-01T08:00",
        "contact_name": "Sofie", "contact_email": "sofie@nordlys.example"})
    assert response.status_code == 200 and "Say where the fault occurs" in response.content.decode()
    assert not FaultReport.objects.exists()


def test_from_the_menu_the_fault_report_starts_by_finding_the_line(company, client_for):
    line = SubscriptionFactory(company=company, number="+4522334455")
    url = reverse("tickets:fault_create")
    assert client_for.get(url, {"number": "+45 22 33 44 55"})["Location"] == f"{url}?subscription={line.pk}"
    foreign = SubscriptionFactory(company=make_member(SubscriptionFactory().company).company, number="+4533333333")
    response = client_for.get(url, {"number": foreign.number})
    assert "No subscription or connection with this number" in response.content.decode()


# Bad input: a clear message, nothing written ---------------------------------------------------------------------

def test_an_empty_reply_and_a_disguised_file_are_said_and_write_nothing(company, member, client_for):
    case = SupportCaseFactory(company=company, created_by=member.user)
    url = reverse("tickets:case_reply", args=[case.pk])
    page = client_for.post(url, {"body": "  "}).content.decode()
    assert "Write a message before you send it." in page
    fake = SimpleUploadedFile("invoice.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    page = client_for.post(url, {"body": "See the file", "attachments": [fake]}).content.decode()
    assert "is not a file type we accept" in page
    assert not CaseMessage.objects.exists()


def test_a_reply_to_a_closed_case_is_said_and_writes_nothing(company, member, client_for):
    case = SupportCaseFactory(company=company, created_by=member.user, status=SupportCase.Status.CLOSED)
    page = client_for.post(reverse("tickets:case_reply", args=[case.pk]), {"body": "Hello?"}).content.decode()
    assert "This case is closed, so it cannot be answered." in page
    assert not CaseMessage.objects.exists()


def test_a_reply_is_shown_in_the_thread(company, member, client_for):
    case = SupportCaseFactory(company=company, created_by=member.user)
    response = client_for.post(reverse("tickets:case_reply", args=[case.pk]), {
        "body": "Here is the log.", "attachments": [SimpleUploadedFile("log.txt", b"drop at 10:02\n")]})
    assert response.status_code == 302
    page = client_for.get(response["Location"]).content.decode()
    assert "Here is the log." in page and "log.txt" in page and "Your message is sent." in page


# Every login of the company views; creating needs the permission ----------------------------------------------

def test_a_read_only_login_sees_the_companys_cases_but_cannot_write(company, member):
    case = SupportCaseFactory(company=company, created_by=member.user, subject="Roaming question")
    reader = verified_client(make_member(company, Role.READ_ONLY).user)
    assert "Roaming question" in reader.get(reverse("tickets:index")).content.decode()
    page = reader.get(reverse("tickets:case_detail", args=[case.pk])).content.decode()
    assert "Roaming question" in page and 'name="body"' not in page
    assert reader.post(reverse("tickets:case_reply", args=[case.pk]), {"body": "Hi"}).status_code == 403
    assert reader.get(reverse("tickets:case_create")).status_code == 403
    assert reader.get(reverse("tickets:faults")).status_code == 403


def test_the_list_shows_the_whole_companys_cases_not_only_mine(company, member, client_for):
    colleague = make_member(company, Role.ORDERER)
    SupportCaseFactory(company=company, created_by=colleague.user, subject="Colleague's case")
    SupportCaseFactory(company=company, created_by=colleague.user, subject="Colleague's draft",
                       status=SupportCase.Status.DRAFT)
    SupportCaseFactory(company=company, created_by=member.user, subject="My draft", status=SupportCase.Status.DRAFT)
    page = client_for.get(reverse("tickets:index")).content.decode()
    assert "Colleague&#x27;s case" in page and "My draft" in page
    assert "Colleague&#x27;s draft" not in page  # a draft is its author's own until sent


def test_drafts_are_changed_and_sent_by_their_author_only(company, other_company, member, client_for):
    draft = SupportCaseFactory(company=company, created_by=member.user, status=SupportCase.Status.DRAFT)
    edit, send = reverse("tickets:case_edit", args=[draft.pk]), reverse("tickets:case_submit", args=[draft.pk])
    mine = BillingAccountFactory(company=company)
    others = [verified_client(make_member(company, Role.ORDERER).user),                      # a colleague
              verified_client(make_member(other_company, Role.SUPERUSER).user),              # another company
              verified_client(make_member(company, Role.ORDERER, accounts=[mine]).user)]     # (no account: 404 too)
    for other in others:
        assert other.get(edit).status_code == 404
        assert other.post(send).status_code == 404
    # Without the permission: refused before anything is looked up.
    without = verified_client(make_member(company, permissions=[Permission.CREATE_FAULT_REPORTS]).user)
    assert without.get(edit).status_code == 403 and without.post(send).status_code == 403
    draft.refresh_from_db()
    assert draft.status == SupportCase.Status.DRAFT
    # Restricted login's scope: a draft on an account outside it is a 404 for its author too.
    page = client_for.get(edit).content.decode()
    assert draft.subject in page
    assert client_for.post(edit, case_post(action="draft", subject="Changed subject")).status_code == 302
    assert client_for.post(send).status_code == 302
    draft.refresh_from_db()
    assert (draft.subject, draft.status) == ("Changed subject", SupportCase.Status.SUBMITTED)
    assert client_for.get(edit).status_code == 404  # sent: no longer a draft


def test_a_draft_outside_its_authors_scope_is_404(company):
    inside, outside = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    author = make_member(company, Role.ORDERER, accounts=[inside])
    draft = SupportCaseFactory(company=company, created_by=author.user, account=outside,
                               status=SupportCase.Status.DRAFT)
    client = verified_client(author.user)
    assert client.get(reverse("tickets:case_edit", args=[draft.pk])).status_code == 404
    assert client.post(reverse("tickets:case_submit", args=[draft.pk])).status_code == 404


# Internal notes never reach a customer ----------------------------------------------------------------------------

def test_internal_notes_are_on_no_customer_page_e_mail_or_export(company, member, client_for):
    case = SupportCaseFactory(company=company, created_by=member.user, subject="Invoice question")
    staff = StaffUserFactory()
    case_operator_reply(staff=staff, case_id=case.pk, body="INTERNAL: credit them 200 kr quietly", internal=True,
                        to=SupportCase.Status.IN_PROGRESS)
    case_operator_reply(staff=staff, case_id=case.pk, body="We are looking at the invoice.")
    report = FaultReportFactory(subscription=SubscriptionFactory(company=company), created_by=member.user)
    from tickets.services import fault_report_operator_update

    fault_report_operator_update(staff=staff, report_id=report.pk, body="INTERNAL: cable cut by us", internal=True)
    pages = [client_for.get(reverse("tickets:case_detail", args=[case.pk])),
             client_for.get(reverse("tickets:fault_detail", args=[report.pk]))]
    for name in ("tickets:index", "tickets:faults"):
        pages += [client_for.get(reverse(name)),
                  client_for.get(reverse(f"{name}_export")), client_for.get(reverse(f"{name}_export_xlsx"))]
    for response in pages:
        assert response.status_code == 200
        assert "INTERNAL" not in response_text(response)
    assert "We are looking at the invoice." in pages[0].content.decode()
    assert OutboxMessage.objects.exists()
    assert not any("INTERNAL" in m.body or "INTERNAL" in m.subject for m in OutboxMessage.objects.all())
    # Searching for the note's words finds nothing either.
    assert "Invoice question" not in client_for.get(reverse("tickets:index"), {"q": "credit them"}).content.decode()


# The lists ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "columns"), [("tickets:index", CASE_COLUMNS), ("tickets:case_history", CASE_COLUMNS),
                                               ("tickets:faults", FAULT_COLUMNS),
                                               ("tickets:fault_history", FAULT_COLUMNS)])
def test_every_column_sorts_both_ways_with_a_constant_number_of_queries(company, member, client_for, name, columns,
                                                                        django_assert_max_num_queries):
    history = "history" in name
    for index in range(3):
        case = SupportCaseFactory(company=company, created_by=member.user, subject=f"Case {index}",
                                  status="closed" if history else "submitted",
                                  subscription=SubscriptionFactory(company=company) if index else None)
        if index == 2:
            case.account = case.subscription.account
            case.save()
        FaultReportFactory(subscription=SubscriptionFactory(company=company),
                           status="closed" if history else "submitted")
    for column in columns:
        for sort in (column.key, f"-{column.key}"):
            with django_assert_max_num_queries(12):
                response = client_for.get(reverse(name), {"sort": sort})
            assert response.status_code == 200
            assert "cannot be sorted" not in response.content.decode(), sort


def test_filters_by_status_area_and_period_and_search(company, member, client_for):
    roaming = SupportCaseFactory(company=company, subject="Roaming in Norway", area="mobile")
    SupportCaseFactory(company=company, subject="Fibre move", area="data", status="waiting")
    listing = lambda **params: client_for.get(reverse("tickets:index"), params).content.decode()  # noqa: E731
    assert "Roaming" in listing(area="mobile") and "Fibre move" not in listing(area="mobile")
    assert "Fibre move" in listing(status="waiting") and "Roaming" not in listing(status="waiting")
    assert "Roaming" in listing(q="norway") and "Fibre" not in listing(q="norway")
    assert "Roaming" in listing(q=roaming.number) and "Fibre" not in listing(q=roaming.number)
    assert "Roaming" not in listing(created_from="2000-01-01", created_to="2000-12-31")
    page = listing(created_from="not a date")
    assert "Enter a valid date." in page
    history = client_for.get(reverse("tickets:case_history"), {"status": "submitted"}).content.decode()
    assert "Select a valid choice" in history  # an open status is not one of the history's


def test_the_export_is_the_filtered_list(company, client_for):
    SupportCaseFactory(company=company, subject="Roaming in Norway", area="mobile")
    SupportCaseFactory(company=company, subject="Fibre move", area="data")
    text = response_text(client_for.get(reverse("tickets:index_export_xlsx"), {"area": "data"}))
    assert "Fibre move" in text and "Roaming" not in text and "Data" in text
