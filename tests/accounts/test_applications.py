"""Applying for access (public form) and deciding applications in the back office (seed 002)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AccessApplication, ActivationToken, AuditEvent, Company, Membership, User
from accounts.permissions import ALL_PERMISSIONS, Role
from accounts.services.activation import activation_find
from accounts.services.applications import (
    ApplicationRefused,
    application_approve,
    application_reject,
    application_submit,
)
from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import make_member, verified_client
from tests.factories import CompanyFactory, StaffUserFactory, UserFactory, next_cvr, orgnr

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_accessapplication_changelist"
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
LETTER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def form_data(**overrides):
    data = {
        "country": "DK", "registration_number": next_cvr(), "company_name": "Havblik ApS",
        "applicant_name": "Mette Holm", "email": "Mette@Havblik.dk", "mobile": "20 12 34 56",
    }
    data.update(overrides)
    return data


def make_application(**overrides) -> AccessApplication:
    fields = {
        "country": "DK", "registration_number": next_cvr(), "company_name": "Havblik ApS",
        "applicant_name": "Mette Holm", "email": "mette@havblik.dk", "mobile": "+4520123456",
    }
    fields.update(overrides)
    return AccessApplication.objects.create(**fields)


def writes_during(callable_):
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    return response, [q["sql"] for q in queries if WRITE.match(q["sql"]) and '"django_session"' not in q["sql"]]


@pytest.fixture
def staff():
    return StaffUserFactory()


@pytest.fixture
def staff_client(staff):
    return verified_client(staff)


def admin_action(client, action, applications, **data):
    """The first POST comes from the change list (it carries ``index``); the confirmation does not."""
    payload = {"action": action, "_selected_action": [a.pk for a in applications], **data}
    if "confirm" not in data:
        payload["index"] = "0"
    return client.post(reverse(CHANGELIST), payload)


def nothing_written_for(application):
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.PENDING
    assert not User.objects.filter(email__iexact=application.email).exists()
    assert not OutboxMessage.objects.exists()
    assert not ActivationToken.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="application_").exists()


# The public form ----------------------------------------------------------------------------------

def test_sign_in_page_links_to_the_application(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:apply") in page and reverse("accounts:activate") in page


def test_form_explains_the_lost_administrator_case_and_get_writes_nothing(client):
    response, writes = writes_during(lambda: client.get(reverse("accounts:apply")))
    assert response.status_code == 200
    page = response.content.decode()
    assert "contact support so we can delete the old login" in page
    assert "Then apply again here" in page
    assert "digital mailbox" in page
    assert writes == []


def test_danish_application_is_recorded_with_a_receipt(client):
    cvr = next_cvr()
    response = client.post(reverse("accounts:apply"), form_data(registration_number=f"DK {cvr[:4]} {cvr[4:]}"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:apply_received")

    application = AccessApplication.objects.get()
    assert application.status == AccessApplication.Status.PENDING
    assert application.registration_number == cvr
    assert application.email == "mette@havblik.dk"
    assert application.mobile == "+4520123456"

    event = AuditEvent.objects.get(action=AuditEvent.Action.APPLICATION_RECEIVED)
    assert event.company is None and event.changes["registration_number"] == [None, cvr]

    receipt = OutboxMessage.objects.get()
    assert receipt.channel == Channel.EMAIL and receipt.recipient == "mette@havblik.dk"
    assert "digital mailbox" in receipt.body and "Havblik ApS" in receipt.body
    assert "&amp;" not in receipt.body

    page = client.get(response["Location"]).content.decode()
    assert "We have received your application for Havblik ApS" in page
    assert "mette@havblik.dk" in page


def test_swedish_application_reads_numbers_the_swedish_way(client):
    number = orgnr("556036079")
    client.post(reverse("accounts:apply"), form_data(
        country="SE", registration_number=f"{number[:6]}-{number[6:]}", mobile="070-123 45 67",
    ))
    application = AccessApplication.objects.get()
    assert application.country == "SE" and application.registration_number == number
    assert application.mobile == "+46701234567"


def test_company_names_with_ampersands_are_not_escaped_in_the_e_mail(client):
    client.post(reverse("accounts:apply"), form_data(company_name="Hansen & Søn A/S"))
    assert "Hansen & Søn A/S" in OutboxMessage.objects.get().body


@pytest.mark.parametrize(("field", "value", "message"), [
    ("registration_number", "30000000", "The check digit of this CVR number is wrong."),
    ("registration_number", "1234", "Enter a valid CVR number (8 digits)."),
    ("registration_number", "3000000a", "Enter a valid CVR number (8 digits)."),
    ("mobile", "12", "Enter a valid mobile number"),
    ("mobile", "+45 1234 5", "Enter a valid mobile number"),
    ("email", "not-an-address", "Enter a valid email address."),
    ("company_name", "", "This field is required."),
])
def test_bad_input_gets_a_clear_message_and_writes_nothing(client, field, value, message):
    data = form_data(**{field: value})
    response, writes = writes_during(lambda: client.post(reverse("accounts:apply"), data))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert writes == []
    assert not AccessApplication.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize(("language", "field", "value", "message"), [
    ("da", "registration_number", "30000000", "Kontrolcifferet i dette CVR-nummer er forkert."),
    ("da", "registration_number", "1234", "Indtast et gyldigt CVR-nummer (8 cifre)."),
    ("sv", "registration_number", "30000000", "Kontrollsiffran i det här CVR-numret är fel."),
    ("sv", "mobile", "12", "Ange ett giltigt mobilnummer"),
])
def test_messages_are_in_the_visitors_language(language, field, value, message):
    from django.test import Client

    response = Client(HTTP_ACCEPT_LANGUAGE=language).post(reverse("accounts:apply"), form_data(**{field: value}))
    assert message in response.content.decode()


def test_swedish_number_with_a_wrong_check_digit_is_refused(client):
    number = orgnr("556036079")
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    response = client.post(reverse("accounts:apply"), form_data(country="SE", registration_number=wrong))
    page = response.content.decode()
    assert "The check digit of this organisation number is wrong." in page
    assert "Enter a valid organisation number" not in page
    assert not AccessApplication.objects.exists()
    page = client.post(reverse("accounts:apply"), form_data(country="SE", registration_number=number[:-1])).content
    assert "Enter a valid organisation number (10 digits" in page.decode()


def test_a_check_digit_failure_is_named_as_such_not_as_the_wrong_length(client):
    cvr = next_cvr()
    wrong = cvr[:-1] + str((int(cvr[-1]) + 1) % 10)
    page = client.post(reverse("accounts:apply"), form_data(registration_number=wrong)).content.decode()
    assert "The check digit of this CVR number is wrong." in page
    assert "8 digits" not in page.split("errorlist", 1)[1].split("</ul>", 1)[0]
    assert not AccessApplication.objects.exists()


def test_unknown_country_is_refused(client):
    response = client.post(reverse("accounts:apply"), form_data(country="NO"))
    assert response.status_code == 200 and not AccessApplication.objects.exists()


def test_double_submit_keeps_one_pending_application(client):
    data = form_data()
    client.post(reverse("accounts:apply"), data)
    response = client.post(reverse("accounts:apply"), {**data, "email": "METTE@havblik.dk "})
    assert response.status_code == 302
    assert AccessApplication.objects.count() == 1
    assert OutboxMessage.objects.count() == 1  # one receipt
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPLICATION_RECEIVED).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "We already have an application for Havblik ApS" in page


def test_a_repeat_shows_only_what_the_applicant_typed(client):
    """Issue 6: a repeat with a known CVR and e-mail must not reveal the stored name or when it came in."""
    from datetime import UTC, datetime

    stored = make_application(company_name="Havblik Stored Name ApS")
    AccessApplication.objects.filter(pk=stored.pk).update(created_at=datetime(2024, 3, 17, 14, 37, tzinfo=UTC))
    probe = form_data(registration_number=stored.registration_number, email=stored.email, company_name="Probe ApS")
    response = client.post(reverse("accounts:apply"), probe)
    page = client.get(response["Location"]).content.decode()
    assert "We already have an application for Probe ApS from mette@havblik.dk" in page
    assert "Stored Name" not in page
    for trace in ("2024", "14:37", "15:37", "17.03", "03/17", "17/03", "March"):
        assert trace not in page, trace
    assert AccessApplication.objects.get().company_name == "Havblik Stored Name ApS"  # unchanged


def test_the_letter_is_promised_within_2_hours(client):
    assert "within 2 hours" in client.get(reverse("accounts:apply")).content.decode()
    response = client.post(reverse("accounts:apply"), form_data())
    assert "within 2 hours" in client.get(response["Location"]).content.decode()
    assert "within 2 hours" in OutboxMessage.objects.get().body
    from django.test import Client

    assert "indenfor 2 timer" in Client(HTTP_ACCEPT_LANGUAGE="da").get(reverse("accounts:apply")).content.decode()
    assert "inom 2 timmar" in Client(HTTP_ACCEPT_LANGUAGE="sv").get(reverse("accounts:apply")).content.decode()


def test_a_registration_number_with_a_login_says_so_and_explains_the_lost_administrator(client):
    company = CompanyFactory(name="Nordlys Stored A/S")
    superuser = make_member(company, Role.SUPERUSER).user
    response = client.post(reverse("accounts:apply"), form_data(
        registration_number=company.registration_number, company_name="Typed Name ApS", email="new@typed.example"))
    page = client.get(response["Location"]).content.decode()
    assert "A company with this registration number already has a Selfcare login" in page
    assert "contact support so we can delete the old login" in page
    assert "within 2 hours" not in page  # not approved while the old login is there
    # Only what the applicant typed: nothing about the company or its logins.
    assert "Typed Name ApS" in page and "Nordlys Stored" not in page
    assert superuser.email not in page and superuser.full_name not in page
    receipt = OutboxMessage.objects.get().body
    assert "already has a Selfcare login" in receipt and "Nordlys Stored" not in receipt


@pytest.mark.parametrize("other_logins", ["none", "read_only", "deactivated_superuser"])
def test_no_login_notice_without_an_active_superuser(client, other_logins):
    """Without an active Superuser, staff can approve the application (the company is reused)."""
    company = CompanyFactory()
    if other_logins == "read_only":
        make_member(company, Role.READ_ONLY)
    elif other_logins == "deactivated_superuser":
        membership = make_member(company, Role.SUPERUSER)
        membership.is_active = False
        membership.save()
    response = client.post(reverse("accounts:apply"), form_data(registration_number=company.registration_number))
    page = client.get(response["Location"]).content.decode()
    assert "already has a Selfcare login" not in page and "within 2 hours" in page


def test_another_person_may_apply_for_the_same_company(client):
    data = form_data()
    client.post(reverse("accounts:apply"), data)
    client.post(reverse("accounts:apply"), {**data, "email": "ole@havblik.dk"})
    assert AccessApplication.objects.count() == 2


def test_a_decided_application_does_not_block_a_new_one():
    application = make_application(status=AccessApplication.Status.REJECTED)
    again, created = application_submit(
        country="DK", registration_number=application.registration_number, company_name="Havblik ApS",
        applicant_name="Mette Holm", email=application.email, mobile="+4520123456",
    )
    assert created and again.pk != application.pk


def test_thank_you_page_without_an_application_goes_back_to_the_form(client):
    response = client.get(reverse("accounts:apply_received"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:apply")


# Approving in the back office ---------------------------------------------------------------------

def test_approve_asks_for_the_address_of_a_new_company(staff_client):
    application = make_application()
    response, writes = writes_during(lambda: admin_action(staff_client, "approve_applications", [application]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="street"' in page and 'name="postal_code"' in page and "CVR register" in page
    assert writes == []


def test_approve_creates_company_superuser_and_sends_the_letter(staff_client, staff):
    application = make_application()
    response = admin_action(staff_client, "approve_applications", [application], confirm="yes",
                            street="Strandvejen 12", postal_code="2900", city="Hellerup")
    assert response.status_code == 302

    company = Company.objects.get(registration_number=application.registration_number)
    assert (company.name, company.street, company.postal_code, company.city) == (
        "Havblik ApS", "Strandvejen 12", "2900", "Hellerup")

    user = User.objects.get(email="mette@havblik.dk")
    assert user.full_name == "Mette Holm" and user.mobile == "+4520123456" and user.language == "da"
    assert not user.has_usable_password() and user.is_active and not user.is_staff

    membership = Membership.objects.get(user=user)
    assert membership.company == company and membership.role == Role.SUPERUSER
    assert set(membership.permissions) == ALL_PERMISSIONS and membership.all_accounts

    application.refresh_from_db()
    assert application.status == AccessApplication.Status.APPROVED
    assert application.decided_by == staff and application.decided_at is not None
    assert application.company == company and application.user == user

    event = AuditEvent.objects.get(action=AuditEvent.Action.APPLICATION_APPROVED)
    assert event.company == company and event.actor == staff and event.target_user == user

    letter = OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL)
    assert letter.recipient == company.registration_number
    assert "mette@havblik.dk" in letter.body
    assert "2 dage" in letter.body  # in the Danish company's language
    assert "http://testserver/activate/" in letter.body
    code = LETTER_CODE.search(letter.body).group()
    token = activation_find(secret=code, kind=ActivationToken.Kind.LETTER_CODE, email="mette@havblik.dk")
    assert token.user == user and token.created_by == staff
    assert not OutboxMessage.objects.filter(channel=Channel.EMAIL).exists()

    messages = [str(m) for m in staff_client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("Approved" in m for m in messages)


def test_the_letter_uses_the_site_url_when_set(staff_client, settings):
    settings.SITE_URL = "https://selfcare.example.com"
    application = make_application()
    admin_action(staff_client, "approve_applications", [application], confirm="yes",
                 street="Strandvejen 12", postal_code="2900", city="Hellerup")
    assert "https://selfcare.example.com/activate/" in OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL).body


def test_swedish_company_gets_a_swedish_login(staff_client):
    application = make_application(country="SE", registration_number=orgnr("556036079"), mobile="+46701234567")
    admin_action(staff_client, "approve_applications", [application], confirm="yes",
                 street="Storgatan 1", postal_code="111 22", city="Stockholm")
    assert User.objects.get(email=application.email).language == "sv"


def test_approve_without_an_address_asks_again_and_writes_nothing(staff_client):
    application = make_application()
    response = admin_action(staff_client, "approve_applications", [application], confirm="yes",
                            street="", postal_code="12", city="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Enter a valid postal code." in response.content.decode()
    nothing_written_for(application)
    assert not Company.objects.exists()


def test_approving_is_refused_when_the_company_already_has_an_active_superuser(staff_client):
    company = CompanyFactory()
    make_member(company, Role.SUPERUSER)
    application = make_application(registration_number=company.registration_number)
    response = admin_action(staff_client, "approve_applications", [application])
    assert response.status_code == 302
    messages = [str(m) for m in staff_client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("already has an active Superuser" in m and "remove the old login first" in m for m in messages)
    nothing_written_for(application)
    assert Company.objects.count() == 1


def test_the_service_refuses_a_second_superuser_too(staff):
    company = CompanyFactory()
    make_member(company, Role.SUPERUSER)
    application = make_application(registration_number=company.registration_number)
    with pytest.raises(ApplicationRefused):
        application_approve(application=application, actor=staff)
    nothing_written_for(application)


def test_lost_administrator_removed_then_the_company_is_reused(staff_client):
    """Seed 002: the only administrator left; staff removed the login; the company applied again."""
    company = CompanyFactory(street="Gammel Vej 1")
    old = make_member(company, Role.SUPERUSER)
    old.user.delete()
    make_member(company, Role.READ_ONLY)  # a colleague remains, but is no Superuser
    application = make_application(registration_number=company.registration_number, company_name="New name")
    page = admin_action(staff_client, "approve_applications", [application]).content.decode()
    assert 'name="street"' not in page and "already exists" in page

    admin_action(staff_client, "approve_applications", [application], confirm="yes")
    assert Company.objects.count() == 1
    company.refresh_from_db()
    assert company.name != "New name" and company.street == "Gammel Vej 1"
    user = User.objects.get(email=application.email)
    assert Membership.objects.get(user=user).company == company
    event = AuditEvent.objects.get(action=AuditEvent.Action.APPLICATION_APPROVED)
    assert event.company == company


def test_a_deactivated_superuser_does_not_block_the_new_one(staff_client):
    company = CompanyFactory()
    old = make_member(company, Role.SUPERUSER)
    old.is_active = False
    old.save()
    application = make_application(registration_number=company.registration_number)
    admin_action(staff_client, "approve_applications", [application], confirm="yes")
    assert Membership.objects.filter(company=company, role=Role.SUPERUSER).count() == 2


def test_approving_is_refused_when_the_e_mail_already_has_a_login(staff_client):
    UserFactory(email="mette@havblik.dk")
    application = make_application(email="Mette@havblik.dk")
    admin_action(staff_client, "approve_applications", [application], confirm="yes",
                 street="Strandvejen 12", postal_code="2900", city="Hellerup")
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.PENDING
    assert not Company.objects.exists() and not OutboxMessage.objects.exists()


def test_approve_one_at_a_time(staff_client):
    first, second = make_application(), make_application(email="ole@havblik.dk")
    response = admin_action(staff_client, "approve_applications", [first, second])
    assert response.status_code == 302
    assert AccessApplication.objects.filter(status=AccessApplication.Status.PENDING).count() == 2


def test_a_decided_application_cannot_be_approved_again(staff_client, staff):
    application = make_application()
    application_reject(application=application, actor=staff, reason="Unknown company")
    OutboxMessage.objects.all().delete()
    admin_action(staff_client, "approve_applications", [application], confirm="yes",
                 street="Strandvejen 12", postal_code="2900", city="Hellerup")
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.REJECTED
    assert not Company.objects.exists() and not OutboxMessage.objects.exists()
    with pytest.raises(ApplicationRefused):
        application_approve(application=application, actor=staff, street="a", postal_code="2900", city="b")


def test_applications_are_read_only_in_the_back_office(staff_client):
    application = make_application()
    url = reverse("admin:accounts_accessapplication_change", args=[application.pk])
    assert staff_client.get(url).status_code == 200
    staff_client.post(url, {"status": "approved", "email": "x@example.com"})
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.PENDING and application.email == "mette@havblik.dk"
    assert staff_client.get(reverse("admin:accounts_accessapplication_add")).status_code == 403


def test_customer_logins_cannot_decide_applications(superuser):
    application = make_application()
    client = verified_client(superuser)
    admin_action(client, "approve_applications", [application], confirm="yes",
                 street="Strandvejen 12", postal_code="2900", city="Hellerup")
    admin_action(client, "reject_applications", [application], confirm="yes", reason="No")
    nothing_written_for(application)


# Approve and Reject on the application's own page (issue 8) -----------------------------------------

def page_urls(application):
    return tuple(reverse(f"admin:accounts_accessapplication_{name}", args=[application.pk])
                 for name in ("change", "approve", "reject"))


def test_staff_open_an_application_approve_it_with_the_address_step(staff_client, staff):
    application = make_application()
    change_url, approve_url, reject_url = page_urls(application)
    page = staff_client.get(change_url).content.decode()
    assert f'href="{approve_url}"' in page and f'href="{reject_url}"' in page

    response, writes = writes_during(lambda: staff_client.get(approve_url))
    assert response.status_code == 200 and writes == []
    page = response.content.decode()
    assert 'name="street"' in page and "CVR register" in page and 'name="action"' not in page
    assert f'href="{change_url}"' in page  # Cancel goes back to the application

    response = staff_client.post(approve_url, {"confirm": "yes", "street": "Strandvejen 12", "postal_code": "2900",
                                               "city": "Hellerup"})
    assert response.status_code == 302 and response["Location"] == change_url
    company = Company.objects.get(registration_number=application.registration_number)
    assert (company.name, company.street, company.city) == ("Havblik ApS", "Strandvejen 12", "Hellerup")
    user = User.objects.get(email="mette@havblik.dk")
    assert Membership.objects.get(user=user).company == company
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.APPROVED and application.decided_by == staff
    assert OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL).recipient == company.registration_number

    page = staff_client.get(change_url)
    assert any("Approved" in str(m) for m in page.context["messages"])
    assert f'href="{approve_url}"' not in page.content.decode()  # decided: no more buttons


def test_approve_from_the_page_without_an_address_asks_again(staff_client):
    application = make_application()
    _change_url, approve_url, _reject_url = page_urls(application)
    response = staff_client.post(approve_url, {"confirm": "yes", "street": "", "postal_code": "12", "city": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    nothing_written_for(application)
    assert not Company.objects.exists()


def test_approve_from_the_page_refuses_a_company_with_an_active_superuser(staff_client):
    company = CompanyFactory()
    make_member(company, Role.SUPERUSER)
    application = make_application(registration_number=company.registration_number)
    change_url, approve_url, _reject_url = page_urls(application)
    response = staff_client.get(approve_url)
    assert response.status_code == 302 and response["Location"] == change_url
    messages = [str(m) for m in staff_client.get(change_url).context["messages"]]
    assert any("already has an active Superuser" in m for m in messages)
    nothing_written_for(application)


def test_staff_reject_from_the_applications_page_with_a_reason(staff_client, staff):
    application = make_application()
    change_url, _approve_url, reject_url = page_urls(application)
    response, writes = writes_during(lambda: staff_client.get(reject_url))
    assert response.status_code == 200 and 'name="reason"' in response.content.decode() and writes == []
    response = staff_client.post(reject_url, {"confirm": "yes", "reason": "  "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    nothing_written_for(application)

    response = staff_client.post(reject_url, {"confirm": "yes", "reason": "The CVR belongs to another company."})
    assert response.status_code == 302 and response["Location"] == change_url
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.REJECTED and application.decided_by == staff
    assert application.rejection_reason == "The CVR belongs to another company."
    mail = OutboxMessage.objects.get()
    assert mail.recipient == "mette@havblik.dk" and "The CVR belongs to another company." in mail.body


def test_a_decided_application_offers_no_decision(staff_client, staff):
    application = make_application()
    application_reject(application=application, actor=staff, reason="Duplicate")
    OutboxMessage.objects.all().delete()
    change_url, approve_url, reject_url = page_urls(application)
    page = staff_client.get(change_url).content.decode()
    assert approve_url not in page and reject_url not in page
    staff_client.post(approve_url, {"confirm": "yes", "street": "a", "postal_code": "2900", "city": "b"})
    staff_client.post(reject_url, {"confirm": "yes", "reason": "Again"})
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.REJECTED and application.rejection_reason == "Duplicate"
    assert not Company.objects.exists() and not OutboxMessage.objects.exists()


def test_an_unknown_application_is_not_found(staff_client):
    assert staff_client.get(reverse("admin:accounts_accessapplication_approve", args=[987654])).status_code == 404
    assert staff_client.post(reverse("admin:accounts_accessapplication_reject", args=[987654])).status_code == 404


def test_staff_without_the_change_permission_cannot_decide(staff_client):
    from django.contrib.auth.models import Permission

    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_accessapplication"))
    client = verified_client(viewer)
    application = make_application()
    change_url, approve_url, reject_url = page_urls(application)
    page = client.get(change_url)
    assert page.status_code == 200 and approve_url not in page.content.decode()
    assert client.get(approve_url).status_code == 403
    assert client.post(approve_url, {"confirm": "yes", "street": "a", "postal_code": "2900", "city": "b"}
                       ).status_code == 403
    assert client.post(reject_url, {"confirm": "yes", "reason": "No"}).status_code == 403
    nothing_written_for(application)


def test_customer_logins_cannot_use_the_applications_buttons(superuser):
    application = make_application()
    client = verified_client(superuser)
    _change_url, approve_url, reject_url = page_urls(application)
    response = client.post(approve_url, {"confirm": "yes", "street": "a", "postal_code": "2900", "city": "b"})
    assert response.status_code == 302 and "login" in response["Location"]  # sent to sign in
    client.post(reject_url, {"confirm": "yes", "reason": "No"})
    nothing_written_for(application)


# Rejecting ----------------------------------------------------------------------------------------

def test_reject_asks_for_a_reason(staff_client):
    application = make_application()
    response, writes = writes_during(lambda: admin_action(staff_client, "reject_applications", [application]))
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    assert writes == []
    response = admin_action(staff_client, "reject_applications", [application], confirm="yes", reason="   ")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    nothing_written_for(application)


def test_reject_stores_the_reason_and_e_mails_it(staff_client, staff):
    application = make_application()
    response = admin_action(staff_client, "reject_applications", [application], confirm="yes",
                            reason="The CVR number belongs to another company.")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == AccessApplication.Status.REJECTED
    assert application.rejection_reason == "The CVR number belongs to another company."
    assert application.decided_by == staff and application.user is None and application.company is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.APPLICATION_REJECTED)
    assert event.actor == staff and event.company is None
    mail = OutboxMessage.objects.get()
    assert mail.channel == Channel.EMAIL and mail.recipient == "mette@havblik.dk"
    assert "The CVR number belongs to another company." in mail.body
    assert not User.objects.filter(email="mette@havblik.dk").exists()


def test_reject_several_skips_decided_ones(staff_client, staff):
    pending, decided = make_application(), make_application(email="ole@havblik.dk")
    application_reject(application=decided, actor=staff, reason="Duplicate")
    OutboxMessage.objects.all().delete()
    admin_action(staff_client, "reject_applications", [pending, decided], confirm="yes", reason="Spam")
    pending.refresh_from_db()
    decided.refresh_from_db()
    assert pending.rejection_reason == "Spam" and decided.rejection_reason == "Duplicate"
    assert OutboxMessage.objects.count() == 1


def test_the_service_needs_a_reason(staff):
    application = make_application()
    with pytest.raises(ApplicationRefused):
        application_reject(application=application, actor=staff, reason=" ")
    nothing_written_for(application)


def test_changelist_lists_applications(staff_client):
    make_application(company_name="Havblik ApS")
    page = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "Havblik ApS" in page and "approve_applications" in page and "reject_applications" in page


def test_one_address_cannot_flood_the_public_form(client):
    from accounts.views.applications import APPLICATIONS_PER_ADDRESS_PER_HOUR

    for index in range(APPLICATIONS_PER_ADDRESS_PER_HOUR):
        client.post(reverse("accounts:apply"), form_data(email=f"applicant{index}@example.com"))
    assert AccessApplication.objects.count() == APPLICATIONS_PER_ADDRESS_PER_HOUR
    response = client.post(reverse("accounts:apply"), form_data(email="one-too-many@example.com"))
    assert response.status_code == 200
    assert "several applications from your network" in response.content.decode()
    assert AccessApplication.objects.count() == APPLICATIONS_PER_ADDRESS_PER_HOUR
