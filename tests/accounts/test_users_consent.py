"""Issue 6, item 1: access to another company needs the login's consent.

The colleague wizard no longer attaches an existing login: it sends an invitation that the login
accepts or declines on its own page. Until then the inviting company sees only the address it typed,
and the wizard answers the same whatever the address is.

The residual: a new address is invited the same way (a login of no company yet, whose activation is the
acceptance), so the users page, its export and the audit log read the same for a new address and for an
address with a login elsewhere (see ``test_the_inviting_company_sees_the_same_...``).
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import ActivationToken, AuditEvent, Membership, MembershipInvitation, User
from accounts.permissions import ROLE_PRESETS, Permission, Role
from accounts.services.activation import activation_find
from accounts.services.audit import audit_record_for_user_companies
from accounts.services.profile import profile_update
from accounts.services.users import Access, AccessRefused, login_access_change, login_create
from selfcare.outbox.models import OutboxMessage
from tests.accounts.test_users_views import CREATE, USERS, messages_of, run_wizard
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://selfcare.example"
INVITATIONS = reverse("accounts:invitations")
Action = AuditEvent.Action
# Fjällvind is Swedish: its wizard reads numbers as Swedish unless they carry a country code.
DETAILS = {"full_name": "Nina Ny", "email": "nina@example.com", "mobile": "070 123 45 67"}


@pytest.fixture
def fjallvind(db):
    return CompanyFactory(name="Fjällvind AB", country="SE", registration_number="5566778899")


@pytest.fixture
def nordlys(db):
    return CompanyFactory(name="Nordlys Holding A/S")


@pytest.fixture
def inviter(fjallvind):
    return make_member(fjallvind, Role.SUPERUSER, full_name="Frida Fjäll")


@pytest.fixture
def inviter_client(inviter):
    return stepped_up(verified_client(inviter.user))


@pytest.fixture
def lars(nordlys):
    """A login of Nordlys, signed in before, with a mobile and a password."""
    membership = make_member(nordlys, Role.SUPERUSER, full_name="Lars Nielsen", email="admin@nordlys.example",
                             mobile="+4520112233")
    User.objects.filter(pk=membership.user.pk).update(last_login="2026-11-30T08:15:00Z")
    return membership.user


def invite(inviter_client, email, **details):
    """Run the whole wizard for ``email``; returns the final response."""
    _wizard, response = run_wizard(inviter_client, details={**DETAILS, "email": email, **details},
                                   permissions=ROLE_PRESETS[Role.ORDERER], role=Role.ORDERER)
    return response


def invitation_to(email) -> MembershipInvitation:
    return MembershipInvitation.objects.get(email=email)


# The wizard says the same thing ------------------------------------------------------------------

def _wizard_answers(client, email) -> list:
    """Everything the wizard shows for one address, with the address itself blanked out."""
    wizard = client.get(CREATE).context["wizard_id"]
    seen = []
    details = client.post(CREATE, {"wizard": wizard, "step": "details", **DETAILS, "email": email})
    seen.append((details.status_code, details["Location"].replace(wizard, "W")))
    page = client.get(details["Location"])
    html = re.sub(r'("X-CSRFToken": "|value=")[\w-]{40,}', r"\1T", page.content.decode())  # masked afresh each time
    seen.append(html.replace(wizard, "W").replace(email, "E"))
    client.post(CREATE, {"wizard": wizard, "step": "accounts", "scope": "all"})
    final = client.post(CREATE, {"wizard": wizard, "step": "functions", "role": Role.READ_ONLY, "action": "create",
                                 "permissions": sorted(ROLE_PRESETS[Role.READ_ONLY])})
    seen.append((final.status_code, final["Location"]))
    users_page = client.get(final["Location"])
    seen.append([text.replace(email, "E") for text in messages_of(users_page)])
    return seen


def test_the_wizard_says_the_same_for_a_new_address_a_login_elsewhere_staff_and_deactivated(
        inviter_client, lars, nordlys):
    staff = StaffUserFactory(email="olivia@operator.example")
    gone = UserFactory(email="gone@example.com", is_active=False)
    # Invited by Nordlys and not yet activated.
    pending = make_member(nordlys, Role.READ_ONLY, email="pending@nordlys.example")
    pending.user.set_unusable_password()
    pending.user.save(update_fields=["password"])

    answers = {email: _wizard_answers(inviter_client, email) for email in
               ("brand.new@example.com", lars.email, staff.email, gone.email, pending.user.email)}
    reference = answers["brand.new@example.com"]
    assert "an invitation has been sent to E" in reference[-1][0]
    for email, seen in answers.items():
        assert seen == reference, email
    assert "already has a Selfcare login" not in str(answers)


def test_only_the_inviting_companys_own_logins_are_told_apart(inviter_client, fjallvind, lars):
    colleague = make_member(fjallvind, Role.READ_ONLY, email="kollega@fjallvind.example")
    wizard = inviter_client.get(CREATE).context["wizard_id"]
    response = inviter_client.post(CREATE, {"wizard": wizard, "step": "details", **DETAILS,
                                            "email": colleague.user.email.upper()})
    assert response.status_code == 400
    assert "already belongs to a colleague here" in str(response.context["form"].errors)
    invite(inviter_client, lars.email)
    wizard = inviter_client.get(CREATE).context["wizard_id"]
    response = inviter_client.post(CREATE, {"wizard": wizard, "step": "details", **DETAILS, "email": lars.email})
    assert response.status_code == 400
    assert "already been invited to this company" in str(response.context["form"].errors)


# Nothing of the login reaches the inviting company -----------------------------------------------

def test_an_existing_login_is_invited_not_attached(inviter_client, fjallvind, nordlys, lars):
    before = User.objects.get(pk=lars.pk)
    response = invite(inviter_client, "Admin@Nordlys.example", full_name="Typed Name", mobile="+46701234567")
    assert response.status_code == 302 and response["Location"] == USERS

    assert not Membership.objects.filter(user=lars, company=fjallvind).exists()
    invitation = invitation_to("admin@nordlys.example")
    assert invitation.status == MembershipInvitation.Status.PENDING and invitation.role == Role.ORDERER
    after = User.objects.get(pk=lars.pk)
    assert (after.full_name, after.mobile, after.password, after.language, after.is_active) == (
        before.full_name, before.mobile, before.password, before.language, before.is_active)
    assert list(Membership.objects.filter(user=lars).values_list("company_id", flat=True)) == [nordlys.pk]

    page = inviter_client.get(USERS).content.decode()
    assert "admin@nordlys.example" in page and "Invited" in page
    for secret in ("Lars Nielsen", "+4520112233", "20 11 22 33", "30.11.2026", "Nov. 30, 2026", "Typed Name"):
        assert secret not in page, secret


def test_the_invitation_is_mailed_to_the_login_in_its_language(inviter_client, lars, settings):
    User.objects.filter(pk=lars.pk).update(language="da")
    invite(inviter_client, lars.email)
    mail = OutboxMessage.objects.get(recipient=lars.email)
    assert "Fjällvind AB" in mail.subject and "Fjällvind AB" in mail.body
    assert "Frida Fjäll" in mail.body and "inviterer" in mail.body  # Danish, the login's language
    assert "http://testserver" + INVITATIONS in mail.body


def test_none_of_the_invited_logins_events_reach_the_inviting_company(inviter_client, fjallvind, nordlys, lars):
    invite(inviter_client, lars.email)
    sent = AuditEvent.objects.get(company=fjallvind, action=Action.INVITATION_SENT)
    assert sent.target_user is None and sent.target_label == lars.email

    client = verified_client(lars)
    audit_record_for_user_companies(action=Action.SIGN_IN, user=lars)
    profile_update(user=lars, full_name="Lars Nielsen Jr.")
    client.post(reverse("accounts:logout"))

    assert AuditEvent.objects.filter(company=nordlys, target_user=lars).count() >= 2
    inviting = AuditEvent.objects.filter(company=fjallvind)
    assert not inviting.filter(target_user=lars).exists() and not inviting.filter(actor=lars).exists()
    csv = b"".join(inviter_client.get(reverse("accounts:audit_log_export")).streaming_content).decode()
    assert "Lars Nielsen" not in csv


def test_another_companys_pending_invitation_link_keeps_working(inviter_client, nordlys, fjallvind):
    """The root of reproduction step 5: attaching the address re-issued the login's activation link,
    and issuing one deletes the unused ones (accounts.services.activation._issue)."""
    nordlys_boss = make_member(nordlys, Role.SUPERUSER)
    login_create(actor_membership=nordlys_boss, full_name="Ny Kollega", email="ny@nordlys.example",
                 mobile="+4520123456", access=Access(frozenset(ROLE_PRESETS[Role.READ_ONLY]), True), site_url=SITE)
    body = OutboxMessage.objects.get(recipient="ny@nordlys.example").body
    secret = re.search(r"/activate/invitation/([\w-]+)/", body).group(1)

    invite(inviter_client, "ny@nordlys.example")

    token = activation_find(secret=secret, kind=ActivationToken.Kind.INVITATION)
    assert token.user.email == "ny@nordlys.example"
    assert ActivationToken.objects.filter(user=token.user).count() == 1
    assert Client().get(reverse("accounts:activate_invitation", kwargs={"token": secret})).status_code == 200
    assert OutboxMessage.objects.filter(recipient="ny@nordlys.example").count() == 2  # the offer to accept later


def test_staff_and_deactivated_logins_are_never_told_and_can_never_accept(inviter_client, fjallvind):
    staff = StaffUserFactory(email="olivia@operator.example")
    gone = UserFactory(email="gone@example.com", is_active=False)
    for user in (staff, gone):
        invite(inviter_client, user.email)
        assert not OutboxMessage.objects.filter(recipient=user.email).exists()
        invitation = invitation_to(user.email)
        client = verified_client(User.objects.get(pk=user.pk))
        response = client.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
        assert response.status_code in (302, 404)
        assert not Membership.objects.filter(user=user, company=fjallvind).exists()
    assert not Membership.objects.filter(user=staff).exists()


# The login answers -------------------------------------------------------------------------------

def test_the_login_sees_the_invitation_on_the_overview_and_accepts_it(inviter_client, fjallvind, nordlys, lars):
    account = BillingAccountFactory(company=fjallvind, number="7770001")
    _wizard, response = run_wizard(inviter_client, details={**DETAILS, "email": lars.email},
                                   scope={"scope": "selected", "accounts": [account.pk]},
                                   permissions=ROLE_PRESETS[Role.ORDERER], role=Role.ORDERER)
    assert response.status_code == 302
    client = verified_client(lars)
    session = client.session
    session[SESSION_COMPANY_KEY] = nordlys.pk
    session.save()

    overview = client.get(reverse("overview")).content.decode()
    assert "has invited your login" in overview and f'href="{INVITATIONS}"' in overview
    page = client.get(INVITATIONS)
    html = page.content.decode()
    assert page.status_code == 200 and "Fjällvind AB" in html and "7770001" in html and "Frida Fjäll" in html

    invitation = invitation_to(lars.email)
    response = client.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
    assert response.status_code == 302 and response["Location"] == INVITATIONS

    membership = Membership.objects.get(user=lars, company=fjallvind)
    assert membership.role == Role.ORDERER and set(membership.permissions) == ROLE_PRESETS[Role.ORDERER]
    assert not membership.all_accounts and list(membership.accounts.all()) == [account]
    assert Membership.objects.get(user=lars, company=nordlys).role == Role.SUPERUSER
    assert client.session[SESSION_COMPANY_KEY] == nordlys.pk  # the default company stays
    invitation.refresh_from_db()
    assert invitation.status == MembershipInvitation.Status.ACCEPTED
    assert AuditEvent.objects.filter(company=fjallvind, action=Action.INVITATION_ACCEPTED, actor=lars).exists()
    assert AuditEvent.objects.filter(company=nordlys, action=Action.INVITATION_ACCEPTED,
                                     changes__company=[None, "Fjällvind AB"]).exists()
    # Now the inviting company sees its new colleague, and nothing is pending any more.
    users = inviter_client.get(USERS).content.decode()
    assert "Lars Nielsen" in users and "Invited, awaiting an answer" not in users
    assert "has invited your login" not in client.get(reverse("overview")).content.decode()


def test_the_login_declines(inviter_client, fjallvind, lars):
    invite(inviter_client, lars.email)
    invitation = invitation_to(lars.email)
    client = verified_client(lars)
    response = client.post(reverse("accounts:invitation_decline", args=[invitation.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=lars, company=fjallvind).exists()
    invitation.refresh_from_db()
    assert invitation.status == MembershipInvitation.Status.DECLINED
    declined = AuditEvent.objects.get(company=fjallvind, action=Action.INVITATION_DECLINED)
    assert declined.target_label == lars.email and declined.actor is None
    assert "Invited, awaiting an answer" not in inviter_client.get(USERS).content.decode()
    # Answered once: it cannot be accepted afterwards.
    assert client.post(reverse("accounts:invitation_accept", args=[invitation.pk])).status_code == 404


def test_another_logins_invitation_is_404_and_answering_is_post_only(inviter_client, fjallvind, lars, nordlys):
    invite(inviter_client, lars.email)
    invitation = invitation_to(lars.email)
    stranger = verified_client(make_member(nordlys, Role.SUPERUSER).user)
    for name in ("accounts:invitation_accept", "accounts:invitation_decline"):
        assert stranger.post(reverse(name, args=[invitation.pk])).status_code == 404
        assert verified_client(lars).get(reverse(name, args=[invitation.pk])).status_code == 405
    assert "Fjällvind" not in stranger.get(INVITATIONS).content.decode()
    invitation.refresh_from_db()
    assert invitation.status == MembershipInvitation.Status.PENDING
    assert not Membership.objects.filter(company=fjallvind, user=lars).exists()


def test_answering_needs_the_csrf_token(inviter_client, lars):
    invite(inviter_client, lars.email)
    invitation = invitation_to(lars.email)
    client = verified_client(lars, client=Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en"))
    assert client.post(reverse("accounts:invitation_accept", args=[invitation.pk])).status_code == 403
    assert not Membership.objects.filter(user=lars, company=invitation.company).exists()


def test_the_offer_is_checked_again_when_it_is_accepted(inviter, inviter_client, fjallvind, lars):
    invite(inviter_client, lars.email)
    invitation = invitation_to(lars.email)
    # The inviter has since lost "order products", which the offer includes.
    boss = make_member(fjallvind, Role.SUPERUSER)
    login_access_change(actor_membership=boss, membership=inviter,
                        access=Access(frozenset({Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS}), True))
    client = verified_client(lars)
    response = client.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
    assert response.status_code == 302
    assert any("no longer" in text for text in messages_of(client.get(INVITATIONS)))
    assert not Membership.objects.filter(user=lars, company=fjallvind).exists()


def test_the_inviting_company_can_withdraw_it(inviter_client, fjallvind, lars):
    invite(inviter_client, lars.email)
    invitation = invitation_to(lars.email)
    response = inviter_client.post(reverse("accounts:user_invitation_withdraw", args=[invitation.pk]))
    assert response.status_code == 302
    assert verified_client(lars).post(reverse("accounts:invitation_accept", args=[invitation.pk])).status_code == 404
    assert AuditEvent.objects.filter(company=fjallvind, action=Action.INVITATION_WITHDRAWN).exists()
    # And may invite again.
    invite(inviter_client, lars.email)
    assert MembershipInvitation.objects.filter(email=lars.email, status="pending").count() == 1


def test_an_invitation_grants_nothing_beyond_the_inviter(fjallvind, lars):
    actor = make_member(fjallvind, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    with pytest.raises(AccessRefused):
        login_create(actor_membership=actor, full_name="x", email=lars.email, mobile="+4520123456",
                     access=Access(frozenset({Permission.MANAGE_COMPANY}), True), site_url=SITE)
    assert not MembershipInvitation.objects.exists()


# A new address and a login elsewhere look the same to the inviting company (issue 6, residual) -----

NEW_ADDRESS = "brand.new@example.com"


def _masked(rows, email, *, drop=()):
    """Rows as the reader reads them, with the address replaced and the columns in ``drop`` left out."""
    return [{key: value.replace(email, "E") for key, value in row.items() if key not in drop}
            for row in rows if any(email in value for value in row.values())]


def _row_html(html, email):
    """The raw HTML of the table rows naming ``email``: ids in URLs and the CSRF token masked."""
    rows = [row for row in re.findall(r"<tr\b[^>]*>.*?</tr>", html, re.S) if email in row]
    return [re.sub(r"/\d+/", "/N/", re.sub(r'value="[\w-]{40,}"', 'value="T"', row)).replace(email, "E")
            for row in rows]


def _csv_rows(response):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def what_the_inviting_company_sees(client, email):
    from tests.table_rows import table_rows

    users = client.get(USERS).content.decode()
    log = client.get(reverse("accounts:audit_log")).content.decode()
    return {
        "users page rows": _masked(table_rows(users), email),
        "users page HTML": _row_html(users, email),
        "users export": _masked(_csv_rows(client.get(reverse("accounts:users_export"))), email),
        # The time is when the inviter acted, not something about the address.
        "audit log rows": _masked(table_rows(log), email, drop=("Time",)),
        "audit log export": _masked(_csv_rows(client.get(reverse("accounts:audit_log_export"))), email,
                                    drop=("Time",)),
    }


def test_the_inviting_company_sees_the_same_for_a_new_address_and_a_login_elsewhere(
        inviter, inviter_client, fjallvind, lars):
    for email in (NEW_ADDRESS, lars.email):
        invite(inviter_client, email, full_name="Typed Name", mobile="+46701234567")
    new, elsewhere = (what_the_inviting_company_sees(inviter_client, email) for email in (NEW_ADDRESS, lars.email))
    assert new == elsewhere
    # And there is something to compare: both are listed as invited, and the log says the same of both.
    assert new["users page rows"] == [{"E-mail": "E", "Role": "Orderer", "Status": "Invited",
                                       "Expires": new["users page rows"][0]["Expires"], "Actions": "Withdraw E"}]
    assert [row["What"] for row in new["audit log rows"]] == ["Invited to the company"]
    assert [row["What"] for row in new["audit log export"]] == ["Invited to the company"]
    assert len(new["users page HTML"]) == 1 and "/users/invitations/N/withdraw/" in new["users page HTML"][0]
    assert new["users export"] == []  # neither is a login of the company yet
    # The mails go to the addresses only; nothing to anyone of the inviting company.
    assert set(OutboxMessage.objects.values_list("recipient", flat=True)) == {NEW_ADDRESS, lars.email}


def _activate(email, *, client=None):
    """The invited address's side: the link in its e-mail, a password and the SMS code."""
    from tests.accounts.test_activation import NEW_PASSWORD, send_code, sms_code

    body = OutboxMessage.objects.filter(recipient=email).latest("id").body
    link = re.search(r"http://testserver(/activate/invitation/[\w-]+/)", body).group(1)
    client = client or Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email=email)
    response = send_code(client, "sms", sms_code(user))
    return link, response


def test_a_new_address_joins_by_activating_and_the_log_reads_as_an_acceptance(
        inviter_client, fjallvind, lars):
    account = BillingAccountFactory(company=fjallvind, number="7770001")
    for email in (NEW_ADDRESS, lars.email):
        run_wizard(inviter_client, details={**DETAILS, "email": email},
                   scope={"scope": "selected", "accounts": [account.pk]},
                   permissions=ROLE_PRESETS[Role.ORDERER], role=Role.ORDERER)
    link, response = _activate(NEW_ADDRESS)
    assert response["Location"] == reverse("overview")
    user = User.objects.get(email=NEW_ADDRESS)
    membership = Membership.objects.get(user=user)
    assert membership.company == fjallvind and membership.role == Role.ORDERER
    assert not membership.all_accounts and list(membership.accounts.all()) == [account]
    assert invitation_to(NEW_ADDRESS).status == MembershipInvitation.Status.ACCEPTED
    assert Client().get(link).status_code == 410  # the link works once
    # The login that exists accepts on its page; the inviting company's log reads the same for both.
    verified_client(lars).post(reverse("accounts:invitation_accept", args=[invitation_to(lars.email).pk]))
    accepted = {
        email: [(event.action, event.actor_label.replace(email, "E"), event.target_label.replace(email, "E"),
                 event.changes) for event in AuditEvent.objects.filter(company=fjallvind).exclude(
                     action=Action.INVITATION_SENT).filter(actor_label=email)]
        for email in (NEW_ADDRESS, lars.email)
    }
    assert accepted[NEW_ADDRESS] == accepted[lars.email]
    assert [event[0] for event in accepted[NEW_ADDRESS]] == [Action.INVITATION_ACCEPTED]
    # The activation itself is the login's own event, in no company's log (it belonged to none yet).
    assert AuditEvent.objects.get(action=Action.LOGIN_ACTIVATED, target_user=user).company is None


def test_a_withdrawn_invitation_ends_the_new_logins_link_and_a_new_one_works(inviter_client, fjallvind):
    invite(inviter_client, NEW_ADDRESS)
    first = OutboxMessage.objects.get(recipient=NEW_ADDRESS).body
    first_link = re.search(r"http://testserver(/activate/invitation/[\w-]+/)", first).group(1)
    inviter_client.post(reverse("accounts:user_invitation_withdraw", args=[invitation_to(NEW_ADDRESS).pk]))
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(first_link)
    assert response.status_code == 410 and "expired" in response.content.decode()

    invite(inviter_client, NEW_ADDRESS, full_name="Nina Igen")
    assert User.objects.filter(email=NEW_ADDRESS).count() == 1  # the same login, nobody's yet, starts again
    assert User.objects.get(email=NEW_ADDRESS).full_name == "Nina Igen"
    link, response = _activate(NEW_ADDRESS)
    assert link != first_link and response["Location"] == reverse("overview")
    assert Membership.objects.get(user__email=NEW_ADDRESS).company == fjallvind
    assert Client().get(first_link).status_code in (404, 410)  # replaced by the new link: unknown now


def test_a_new_login_whose_inviter_lost_the_right_still_activates_and_is_told(inviter, inviter_client, fjallvind):
    invite(inviter_client, NEW_ADDRESS)
    boss = make_member(fjallvind, Role.SUPERUSER)
    login_access_change(actor_membership=boss, membership=inviter,
                        access=Access(frozenset({Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS}), True))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _activate(NEW_ADDRESS, client=client)
    user = User.objects.get(email=NEW_ADDRESS)
    assert user.has_usable_password() and not Membership.objects.filter(user=user).exists()
    assert invitation_to(NEW_ADDRESS).status == MembershipInvitation.Status.PENDING  # still the inviter's to fix
    # Its page says where the invitation is; accepting it says why it cannot (in the login's Swedish).
    assert f'href="{INVITATIONS}"' in client.get(reverse("overview")).content.decode()
    response = client.post(reverse("accounts:invitation_accept", args=[invitation_to(NEW_ADDRESS).pk]))
    assert response.status_code == 302
    assert any("Fjällvind AB" in text and "inte längre" in text for text in messages_of(client.get(INVITATIONS)))
    assert not Membership.objects.filter(user=user).exists()
