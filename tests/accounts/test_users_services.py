"""accounts.services.users: every rule of seed 004 ("Användare", "Mitt konto"), refused with a clear
message and nothing changed, and every change audited."""

import re
from datetime import timedelta

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import ActivationToken, AuditEvent, Membership, MembershipInvitation, User
from accounts.permissions import ALL_PERMISSIONS, ROLE_PRESETS, Permission, Role
from accounts.services.activation import ActivationInvalid, activation_find, activation_issue_invitation
from accounts.services.users import (
    Access,
    AccessRefused,
    login_access_change,
    login_create,
    login_deactivate,
    login_invitation_resend,
    login_reactivate,
    login_refusals,
    login_remove,
)
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member
from tests.factories import BillingAccountFactory, CompanyFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

SITE = "https://selfcare.example"
READ_ONLY = ROLE_PRESETS[Role.READ_ONLY]


def access(permissions=READ_ONLY, all_accounts=True, accounts=()):
    return Access(frozenset(permissions), all_accounts, frozenset(account.pk for account in accounts))


def create(actor, email="ny.kollega@example.com", **kwargs):
    fields = {"full_name": "Ny Kollega", "mobile": "+4520123456", "access": access(), "site_url": SITE}
    fields.update(kwargs)
    return login_create(actor_membership=actor, email=email, **fields)


class Snapshot:
    """Counts of everything a refused call must leave alone."""

    models = (User, Membership, AuditEvent, OutboxMessage, ActivationToken, MembershipInvitation)

    def __init__(self):
        self.counts = self.take()

    def take(self):
        return {model.__name__: model.objects.count() for model in self.models}

    def unchanged(self):
        return self.take() == self.counts


def refused(call, code=None, match=None):
    """Run call, expect AccessRefused, and expect nothing written."""
    before = Snapshot()
    with pytest.raises(AccessRefused) as caught:
        call()
    assert before.unchanged(), (before.counts, before.take())
    if code:
        assert caught.value.code == code, caught.value
    if match:
        assert re.search(match, " ".join(caught.value.messages)), caught.value.messages
    return caught.value


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER, full_name="Bo Chef")


# Creating a login ------------------------------------------------------------------------------

def pending_login(company, email="ny.kollega@example.com"):
    """A login of the company that has not been activated yet, with an invitation link (as an approved
    application's Superuser, or a colleague created before invitations were for every address)."""
    membership = make_member(company, Role.READ_ONLY, email=email)
    membership.user.set_unusable_password()
    membership.user.save(update_fields=["password"])
    activation_issue_invitation(user=membership.user)
    return membership


def test_create_writes_login_invitation_audit_token_and_mail(boss, company):
    """A new address: a login of no company yet (no password) and an invitation, which its activation accepts."""
    account = BillingAccountFactory(company=company)
    invitation = create(boss, email="Ny.Kollega@Example.com", access=access(READ_ONLY, False, [account]))

    user = User.objects.get(email="ny.kollega@example.com")
    assert user.full_name == "Ny Kollega" and user.mobile == "+4520123456"
    assert not user.has_usable_password()
    assert user.language == "da"
    assert not Membership.objects.filter(user=user).exists()  # access comes with the activation
    assert invitation.email == user.email and invitation.new_login
    assert invitation.company == company and invitation.role == Role.READ_ONLY
    assert set(invitation.permissions) == READ_ONLY
    assert not invitation.all_accounts and list(invitation.accounts.all()) == [account]

    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITATION_SENT)
    assert event.actor == boss.user and event.company == company and event.target_label == user.email
    assert event.target_user is None and set(event.changes) == {"role", "permissions", "all_accounts", "accounts"}
    assert event.changes["role"] == [None, Role.READ_ONLY]
    assert event.changes["permissions"] == [None, sorted(READ_ONLY)]
    assert event.changes["all_accounts"] == [None, False]
    assert event.changes["accounts"] == [None, [account.number]]

    token = ActivationToken.objects.get(user=user, kind=ActivationToken.Kind.INVITATION)
    assert token.used_at is None and token.created_by == boss.user
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)

    mail = OutboxMessage.objects.get(recipient=user.email)
    prefix = SITE + reverse("accounts:activate_invitation", kwargs={"token": "SECRET"}).replace("SECRET/", "")
    link = re.search(re.escape(prefix) + r"([\w-]+)/", mail.body)
    assert link, mail.body
    assert activation_find(secret=link.group(1), kind=ActivationToken.Kind.INVITATION).user == user
    assert company.name in mail.subject
    assert re.search(r"\b7\b", mail.body)  # the link's lifetime, in days


def test_a_swedish_company_gives_a_swedish_login():
    company = CompanyFactory(country="SE", registration_number="5560360793")
    actor = make_member(company, Role.SUPERUSER)
    create(actor)
    assert User.objects.get(email="ny.kollega@example.com").language == "sv"


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.ORDERER, Role.APPROVER, Role.READ_ONLY, Role.SUPERUSER])
def test_the_role_is_the_preset_the_permissions_match(boss, role):
    membership = create(boss, access=access(ROLE_PRESETS[role]))
    assert membership.role == role


def test_any_change_from_a_preset_makes_the_role_custom(boss):
    membership = create(boss, access=access(ROLE_PRESETS[Role.ORDERER] - {Permission.ORDER_PRODUCTS}))
    assert membership.role == Role.CUSTOM


def test_cannot_grant_a_permission_one_lacks(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    refused(lambda: create(actor, access=access({Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_PUK})),
            code="grant_beyond_own", match="View PUK codes")
    assert create(actor, access=access({Permission.VIEW_SUBSCRIPTIONS})).role == Role.CUSTOM


def test_an_unknown_permission_is_refused(boss):
    refused(lambda: create(boss, access=access(READ_ONLY | {"accounts.everything"})), code="unknown_permission")


def test_restricted_creator_grants_only_inside_its_own_scope(company):
    mine, other = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    actor = make_member(company, Role.SUPERUSER, accounts=[mine])
    refused(lambda: create(actor, access=access(all_accounts=True)), code="scope_beyond_own")
    refused(lambda: create(actor, access=access(all_accounts=False, accounts=[mine, other])),
            code="scope_beyond_own", match=other.number)
    membership = create(actor, access=access(all_accounts=False, accounts=[mine]))
    assert list(membership.accounts.all()) == [mine]


def test_an_account_of_another_company_is_refused(boss, other_company):
    foreign = BillingAccountFactory(company=other_company)
    refused(lambda: create(boss, access=access(all_accounts=False, accounts=[foreign])), code="unknown_account")


def test_only_a_login_that_manages_users_creates_logins(company):
    actor = make_member(company, Role.ADMINISTRATOR)
    refused(lambda: create(actor), code="not_allowed")
    actor = make_member(company, Role.SUPERUSER)
    Membership.objects.filter(pk=actor.pk).update(is_active=False)
    refused(lambda: create(actor), code="not_allowed")


def test_an_e_mail_of_a_member_of_this_company_is_refused(boss, company):
    colleague = make_member(company, Role.READ_ONLY)
    refused(lambda: create(boss, email=colleague.user.email.upper()), code="email_member")


def test_creating_twice_creates_one_login(boss):
    create(boss)
    refused(lambda: create(boss), code="email_invited")
    assert User.objects.filter(email="ny.kollega@example.com").count() == 1
    assert MembershipInvitation.objects.filter(email="ny.kollega@example.com").count() == 1


# Changing access -------------------------------------------------------------------------------

def test_change_saves_role_permissions_scope_and_audits_before_and_after(boss, company):
    account = BillingAccountFactory(company=company)
    target = make_member(company, Role.READ_ONLY)
    login_access_change(actor_membership=boss, membership=target,
                        access=access(ROLE_PRESETS[Role.ORDERER], False, [account]))
    target.refresh_from_db()
    assert target.role == Role.ORDERER and set(target.permissions) == ROLE_PRESETS[Role.ORDERER]
    assert list(target.accounts.all()) == [account]
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS_CHANGED)
    assert event.target_user == target.user and event.actor == boss.user and event.company == company
    assert event.changes["role"] == [Role.READ_ONLY, Role.ORDERER]
    assert event.changes["all_accounts"] == [True, False]
    assert event.changes["accounts"] == [[], [account.number]]
    assert set(event.changes["permissions"][1]) - set(event.changes["permissions"][0]) == (
        ROLE_PRESETS[Role.ORDERER] - READ_ONLY)


def test_nobody_changes_their_own_access(boss):
    refused(lambda: login_access_change(actor_membership=boss, membership=boss, access=access(READ_ONLY)),
            code="self")


def test_another_companys_login_is_404(boss, other_company):
    foreign = make_member(other_company, Role.READ_ONLY)
    for call in (
        lambda: login_access_change(actor_membership=boss, membership=foreign, access=access()),
        lambda: login_deactivate(actor_membership=boss, membership=foreign),
        lambda: login_reactivate(actor_membership=boss, membership=foreign),
        lambda: login_remove(actor_membership=boss, membership=foreign),
        lambda: login_invitation_resend(actor_membership=boss, membership=foreign, site_url=SITE),
    ):
        before = Snapshot()
        with pytest.raises(Http404):
            call()
        assert before.unchanged()
    assert Membership.objects.filter(pk=foreign.pk, is_active=True).exists()


def test_cannot_grant_what_one_lacks_by_a_crafted_change(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    target = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS})
    refused(lambda: login_access_change(actor_membership=actor, membership=target,
                                        access=access({Permission.VIEW_SUBSCRIPTIONS, Permission.MANAGE_USERS,
                                                       Permission.MANAGE_COMPANY})),
            code="grant_beyond_own", match="Manage the company profile")
    target.refresh_from_db()
    assert target.permissions == [Permission.VIEW_SUBSCRIPTIONS]


def test_cannot_withdraw_what_one_lacks_but_may_leave_it_alone(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    target = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_PUK})
    refused(lambda: login_access_change(actor_membership=actor, membership=target,
                                        access=access({Permission.VIEW_SUBSCRIPTIONS})),
            code="withdraw_beyond_own")
    login_access_change(actor_membership=actor, membership=target, access=access({Permission.VIEW_PUK}))
    target.refresh_from_db()
    assert target.permissions == [Permission.VIEW_PUK]


def test_restricted_actor_changes_only_account_numbers_inside_its_scope(company):
    mine, theirs, third = (BillingAccountFactory(company=company) for _ in range(3))
    actor = make_member(company, Role.SUPERUSER, accounts=[mine, third])
    target = make_member(company, Role.READ_ONLY, accounts=[theirs])
    everything = make_member(company, Role.READ_ONLY)

    refused(lambda: login_access_change(actor_membership=actor, membership=target,
                                        access=access(all_accounts=False, accounts=[mine])),
            code="scope_beyond_own", match=theirs.number)
    refused(lambda: login_access_change(actor_membership=actor, membership=target, access=access(all_accounts=True)),
            code="scope_beyond_own")
    refused(lambda: login_access_change(actor_membership=actor, membership=everything,
                                        access=access(all_accounts=False, accounts=[mine])),
            code="scope_beyond_own")

    login_access_change(actor_membership=actor, membership=target,
                        access=access(all_accounts=False, accounts=[mine, theirs]))
    assert set(target.accounts.all()) == {mine, theirs}


def test_the_last_superuser_cannot_be_demoted(company):
    only = make_member(company, Role.SUPERUSER)
    # A login with every permission but not stored as Superuser: only the rule itself stops it.
    actor = make_member(company, permissions=ALL_PERMISSIONS)
    refused(lambda: login_access_change(actor_membership=actor, membership=only,
                                        access=access(ALL_PERMISSIONS - {Permission.VIEW_PUK})),
            code="last_superuser", match="last Superuser")
    assert Membership.objects.get(pk=only.pk).role == Role.SUPERUSER

    make_member(company, Role.SUPERUSER)
    login_access_change(actor_membership=actor, membership=only, access=access(ALL_PERMISSIONS - {Permission.VIEW_PUK}))
    assert Membership.objects.get(pk=only.pk).role == Role.CUSTOM


def test_a_deactivated_superuser_does_not_count(company):
    only = make_member(company, Role.SUPERUSER)
    make_member(company, Role.SUPERUSER, is_active=False)  # the login itself is deactivated
    dormant = make_member(company, Role.SUPERUSER)
    Membership.objects.filter(pk=dormant.pk).update(is_active=False)
    actor = make_member(company, permissions=ALL_PERMISSIONS)
    refused(lambda: login_deactivate(actor_membership=actor, membership=only), code="last_superuser")


def test_superuser_demoting_itself_is_refused(boss, company):
    make_member(company, Role.SUPERUSER)
    refused(lambda: login_access_change(actor_membership=boss, membership=boss, access=access()), code="self")


def test_a_change_that_changes_nothing_is_not_audited(boss, company):
    target = make_member(company, Role.READ_ONLY)
    login_access_change(actor_membership=boss, membership=target, access=access(READ_ONLY))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_CHANGED).exists()


# Deactivate, reactivate, remove ------------------------------------------------------------

def test_deactivate_and_reactivate_are_audited(boss, company):
    target = make_member(company, Role.READ_ONLY)
    login_deactivate(actor_membership=boss, membership=target)
    assert not Membership.objects.get(pk=target.pk).is_active
    login_reactivate(actor_membership=boss, membership=target)
    assert Membership.objects.get(pk=target.pk).is_active
    actions = list(AuditEvent.objects.filter(target_user=target.user).order_by("id").values_list("action", flat=True))
    assert actions == [AuditEvent.Action.LOGIN_DEACTIVATED, AuditEvent.Action.LOGIN_REACTIVATED]


def test_nobody_deactivates_or_removes_themselves(boss, company):
    make_member(company, Role.SUPERUSER)
    refused(lambda: login_deactivate(actor_membership=boss, membership=boss), code="self")
    refused(lambda: login_remove(actor_membership=boss, membership=boss), code="self")


def test_the_last_superuser_cannot_be_deactivated_or_removed(company):
    only = make_member(company, Role.SUPERUSER)
    actor = make_member(company, permissions=ALL_PERMISSIONS)
    refused(lambda: login_deactivate(actor_membership=actor, membership=only), code="last_superuser")
    refused(lambda: login_remove(actor_membership=actor, membership=only), code="last_superuser")
    second = make_member(company, Role.SUPERUSER)
    login_remove(actor_membership=actor, membership=only)
    refused(lambda: login_deactivate(actor_membership=actor, membership=second), code="last_superuser")


def test_a_login_with_more_access_cannot_be_deactivated_or_removed(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    richer = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_INVOICES})
    refused(lambda: login_deactivate(actor_membership=actor, membership=richer), code="target_beyond_own")
    refused(lambda: login_remove(actor_membership=actor, membership=richer), code="target_beyond_own")

    mine = BillingAccountFactory(company=company)
    restricted = make_member(company, Role.SUPERUSER, accounts=[mine])
    unrestricted = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS})
    refused(lambda: login_deactivate(actor_membership=restricted, membership=unrestricted), code="target_beyond_own")
    inside = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS}, accounts=[mine])
    login_deactivate(actor_membership=restricted, membership=inside)


def test_remove_takes_the_membership_and_deactivates_a_login_left_without_company(boss, company):
    target = pending_login(company)
    user = target.user
    login_remove(actor_membership=boss, membership=target)
    assert not Membership.objects.filter(pk=target.pk).exists()
    user.refresh_from_db()
    assert not user.is_active
    assert not ActivationToken.objects.filter(user=user).exists()  # the invitation link is dead
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_REMOVED)
    assert event.target_user == user and event.company == company
    assert event.changes["role"] == [Role.READ_ONLY, None]
    assert event.changes["login_active"] == [True, False]


def test_remove_keeps_a_login_that_has_another_company(boss, company, other_company):
    target = make_member(company, Role.READ_ONLY)
    Membership.objects.create(user=target.user, company=other_company, role=Role.READ_ONLY,
                              permissions=sorted(READ_ONLY))
    login_remove(actor_membership=boss, membership=target)
    target.user.refresh_from_db()
    assert target.user.is_active


def test_remove_never_deactivates_operator_staff(boss, company):
    staff = StaffUserFactory()
    target = Membership.objects.create(user=staff, company=company, role=Role.READ_ONLY, permissions=sorted(READ_ONLY))
    login_remove(actor_membership=boss, membership=target)
    staff.refresh_from_db()
    assert staff.is_active


# Invitation ------------------------------------------------------------------------------------

def test_a_new_invitation_replaces_the_old_link(boss, company):
    target = pending_login(company)
    login_invitation_resend(actor_membership=boss, membership=target, site_url=SITE)
    first = re.search(r"/activate/invitation/([\w-]+)/", OutboxMessage.objects.get().body).group(1)
    login_invitation_resend(actor_membership=boss, membership=target, site_url=SITE)
    second = re.search(r"/activate/invitation/([\w-]+)/", OutboxMessage.objects.order_by("-id").first().body).group(1)
    with pytest.raises(ActivationInvalid):
        activation_find(secret=first, kind=ActivationToken.Kind.INVITATION)
    assert activation_find(secret=second, kind=ActivationToken.Kind.INVITATION).user == target.user


def test_an_activated_login_gets_no_new_invitation(boss, company):
    target = make_member(company, Role.READ_ONLY)
    refused(lambda: login_invitation_resend(actor_membership=boss, membership=target, site_url=SITE),
            code="activated")


# What the page offers ----------------------------------------------------------------------

def test_refusals_explain_what_the_page_does_not_offer(company):
    only = make_member(company, Role.SUPERUSER)
    colleague = make_member(company, Role.READ_ONLY)
    assert login_refusals(actor_membership=only, membership=only)["change"]
    assert login_refusals(actor_membership=only, membership=colleague) == {
        "change": "", "deactivate": "", "reactivate": "", "remove": "", "demote": "",
    }
    manager = make_member(company, permissions={Permission.MANAGE_USERS})
    refusals = login_refusals(actor_membership=manager, membership=only)
    assert "more access" in refusals["remove"] and "last Superuser" in refusals["demote"]


def test_a_concurrent_second_create_is_refused_by_the_database(boss, monkeypatch):
    """Two submits racing past the e-mail check: the unique constraint stops the second one."""
    create(boss)
    monkeypatch.setattr("accounts.services.users.login_email_status", lambda **kwargs: "free")
    monkeypatch.setattr("accounts.services.users._login_by_email", lambda email: None)
    monkeypatch.setattr(User, "validate_unique", lambda self, exclude=None: None)
    refused(lambda: create(boss), code="duplicate", match="sent twice")


def test_a_concurrent_second_invitation_is_refused_by_the_database(boss, other_company, monkeypatch):
    elsewhere = make_member(other_company, Role.READ_ONLY)
    create(boss, email=elsewhere.user.email)
    monkeypatch.setattr("accounts.services.users.login_email_status", lambda **kwargs: "free")
    refused(lambda: create(boss, email=elsewhere.user.email), code="duplicate")
