"""Writes for colleagues' logins: create one (the wizard's last step), change its access, deactivate,
reactivate, remove, and send a fresh invitation.

The rules of seed 004 ("Användare", "Mitt konto") live here, not in the pages:

- only a login holding "manage users" in the company acts, and only on that company's logins
  (another company's login is a 404, like a missing one);
- nobody grants or withdraws a permission, or an account number, they do not have themselves;
- nobody changes, deactivates or removes their own login;
- the last active Superuser of a company stays a Superuser, active and present.

A refusal raises ``AccessRefused`` (a ValidationError with a message for the page) and changes
nothing. Each write locks its company's row first: changes to one company's logins happen one after
the other, so two administrators cannot, say, demote each other at the same moment and leave the
company without a Superuser. Every change is audited in its own transaction.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ActivationToken, Company, Country, Membership, MembershipInvitation, User
from accounts.permissions import ALL_PERMISSIONS, Permission, Role, role_for_permissions
from accounts.selectors import membership_account_ids, membership_permissions
from accounts.services.activation import INVITATION_VALIDITY, activation_issue_invitation
from accounts.services.audit import Action, audit_diff, audit_record
from accounts.services.profile import email_change_start, mobile_change_start
from selfcare.outbox.services import outbox_enqueue_email
from subscriptions.models import BillingAccount

LANGUAGE_BY_COUNTRY = {Country.DENMARK: "da", Country.SWEDEN: "sv"}


class AccessRefused(ValidationError):
    """A rule said no; nothing was changed. ``messages`` are meant for the person who tried."""


@dataclass(frozen=True)
class Access:
    """What a membership grants: permissions and account scope (account ids matter only when not all)."""

    permissions: frozenset[str]
    all_accounts: bool
    account_ids: frozenset[int] = frozenset()

    @property
    def role(self) -> str:
        return role_for_permissions(self.permissions)

    @classmethod
    def of(cls, membership: Membership) -> "Access":
        ids = membership_account_ids(membership)
        return cls(membership_permissions(membership), membership.all_accounts, ids or frozenset())


def _labels(permissions) -> str:
    labels = dict(Permission.choices)
    return ", ".join(f"“{labels.get(code, code)}”" for code in sorted(permissions))


def _account_numbers(account_ids) -> list[str]:
    return list(BillingAccount.objects.filter(pk__in=account_ids).order_by("number").values_list("number", flat=True))


def _audit_values(access: Access, role: str | None = None) -> dict:
    return {
        "role": role or access.role,
        "permissions": sorted(access.permissions),
        "all_accounts": access.all_accounts,
        "accounts": [] if access.all_accounts else _account_numbers(access.account_ids),
    }


# The checks ------------------------------------------------------------------------------------

def _lock(actor_membership: Membership) -> Membership:
    """Lock the company (the per-company mutex) and return the actor's membership as it is now."""
    list(Company.objects.select_for_update().filter(pk=actor_membership.company_id).values_list("pk", flat=True))
    actor = (
        Membership.objects.select_related("user", "company").filter(pk=actor_membership.pk, is_active=True).first()
    )
    if actor is None or not actor.user.is_active or Permission.MANAGE_USERS not in membership_permissions(actor):
        raise AccessRefused(_("You may not manage users in this company."), code="not_allowed")
    return actor


def _target(actor: Membership, membership: Membership) -> Membership:
    """The target membership as it is now; another company's (or a vanished) one is a 404."""
    target = (
        Membership.objects.select_related("user")
        .filter(pk=membership.pk, company_id=actor.company_id)
        .first()
    )
    if target is None:
        raise Http404
    if target.user_id == actor.user_id:
        raise AccessRefused(_("You cannot change, deactivate or remove your own login."), code="self")
    return target


def _check_change(actor: Membership, before: Access, after: Access) -> None:
    """The actor may hand out and take back only what it has itself."""
    unknown = after.permissions - ALL_PERMISSIONS
    if unknown:
        raise AccessRefused(_("Unknown permission: %(codes)s.") % {"codes": ", ".join(sorted(unknown))},
                            code="unknown_permission")
    mine = membership_permissions(actor)
    granted = (after.permissions - before.permissions) - mine
    if granted:
        raise AccessRefused(
            _("You cannot grant %(permissions)s: you do not have it yourself.") % {"permissions": _labels(granted)},
            code="grant_beyond_own",
        )
    withdrawn = (before.permissions - after.permissions) - mine
    if withdrawn:
        raise AccessRefused(
            _("You cannot withdraw %(permissions)s: you do not have it yourself.")
            % {"permissions": _labels(withdrawn)},
            code="withdraw_beyond_own",
        )

    if not after.all_accounts and after.account_ids:
        known = BillingAccount.objects.filter(company_id=actor.company_id, pk__in=after.account_ids).count()
        if known != len(after.account_ids):
            raise AccessRefused(_("Choose account numbers of this company."), code="unknown_account")
    my_accounts = membership_account_ids(actor)
    if my_accounts is None:
        return
    if after.all_accounts != before.all_accounts:
        if after.all_accounts:
            message = _("You cannot give access to all account numbers: you do not have it yourself.")
        else:
            message = _("You cannot restrict a login that has access to all account numbers: you do not have that "
                        "access yourself.")
        raise AccessRefused(message, code="scope_beyond_own")
    if not after.all_accounts:
        before_ids = frozenset() if before.all_accounts else before.account_ids
        beyond = (before_ids ^ after.account_ids) - my_accounts
        if beyond:
            raise AccessRefused(
                _("You cannot give or take away account numbers outside your own access: %(numbers)s.")
                % {"numbers": ", ".join(_account_numbers(beyond))},
                code="scope_beyond_own",
            )


def _check_not_beyond(actor: Membership, target: Membership, message: str) -> None:
    """Deactivating, reactivating or removing a login moves all of its access: only someone who has
    at least that access may do it."""
    if membership_permissions(target) - membership_permissions(actor):
        raise AccessRefused(message, code="target_beyond_own")
    my_accounts = membership_account_ids(actor)
    if my_accounts is None:
        return
    target_accounts = membership_account_ids(target)
    if target_accounts is None or target_accounts - my_accounts:
        raise AccessRefused(message, code="target_beyond_own")


def _check_superuser_stays(target: Membership, message: str) -> None:
    if target.role != Role.SUPERUSER or not target.is_active or not target.user.is_active:
        return
    others = (
        Membership.objects.filter(company_id=target.company_id, role=Role.SUPERUSER, is_active=True,
                                  user__is_active=True)
        .exclude(pk=target.pk)
        .exists()
    )
    if not others:
        raise AccessRefused(message, code="last_superuser")


def _save_access(membership: Membership, access: Access) -> None:
    membership.role = access.role
    # A Superuser holds every permission there is; storing them all keeps has_permission() simple.
    membership.permissions = sorted(ALL_PERMISSIONS if membership.role == Role.SUPERUSER else access.permissions)
    membership.all_accounts = access.all_accounts
    membership.full_clean()
    membership.save()
    membership.accounts.set([] if access.all_accounts else sorted(access.account_ids))


# E-mails ---------------------------------------------------------------------------------------

def _send_invitation(*, user: User, company: Company, actor: User, site_url: str) -> None:
    secret = activation_issue_invitation(user=user, created_by=actor)
    # Resolved when the e-mail is written, so the link always follows the current URLconf.
    link = site_url.rstrip("/") + reverse("accounts:activate_invitation", kwargs={"token": secret})
    context = {
        "user": user, "company": company, "actor": actor, "link": link,
        "days": INVITATION_VALIDITY.days,
    }
    with translation.override(user.language):
        subject = "".join(render_to_string("accounts/email/invitation_subject.txt", context).splitlines())
        body = render_to_string("accounts/email/invitation.txt", context)
    outbox_enqueue_email(to=user.email, subject=subject, body=body)


def _send_membership_invitation(*, user: User, invitation: MembershipInvitation, actor: User, site_url: str) -> None:
    """Tell an existing login that a company offers it access; it answers on its own invitations page."""
    context = {"user": user, "company": invitation.company, "actor": actor, "invitation": invitation,
               "link": site_url.rstrip("/") + reverse("accounts:invitations"), "days": INVITATION_VALIDITY.days}
    with translation.override(user.language):
        context["role"] = invitation.get_role_display()
        subject = render_to_string("accounts/email/invitation_existing_login_subject.txt", context)
        subject = "".join(subject.splitlines())
        body = render_to_string("accounts/email/invitation_existing_login.txt", context)
    outbox_enqueue_email(to=user.email, subject=subject, body=body)


# The services ----------------------------------------------------------------------------------

def _normalise_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


def _pending_invitations(company_id: int, email: str):
    return MembershipInvitation.objects.filter(company_id=company_id, email__iexact=email,
                                               status=MembershipInvitation.Status.PENDING)


def _login_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def login_email_status(*, email: str, company_id: int) -> str:
    """How an e-mail address stands in this company: "member" (a login of this company already),
    "invited" (an invitation of this company awaits an answer), else "free".

    Deliberately nothing about other companies, operator staff or deactivated logins: whether the address
    has a login elsewhere is the login's business, not the inviting company's (``login_create`` sends an
    invitation to accept in that case, and the wizard says the same either way).
    """
    email = _normalise_email(email)
    if Membership.objects.filter(user__email__iexact=email, company_id=company_id).exists():
        return "member"
    if _pending_invitations(company_id, email).filter(expires_at__gt=timezone.now()).exists():
        return "invited"
    return "free"


EMAIL_REFUSALS = {
    "member": gettext_lazy("This e-mail address already belongs to a colleague here. Change their access on the "
                           "users page."),
    "invited": gettext_lazy("This e-mail address has already been invited to this company. The invitation is on "
                            "the users page."),
}


def login_email_refusal(status: str) -> str:
    return str(EMAIL_REFUSALS[status])


def login_create(*, actor_membership: Membership, full_name: str, email: str, mobile: str, access: Access,
                 site_url: str, request=None) -> MembershipInvitation:
    """Invite a colleague to the actor's company: what the wizard's last step does.

    Every address gets a ``MembershipInvitation``, and the inviting company sees the same for each (its
    users page, its audit log, the wizard's answer): whether the address has a login somewhere is the
    login's business (issue 6). Access comes only with the login's consent:

    - an address without a login gets a new login of no company yet (the name and mobile typed, no
      password) and an e-mail with an activation link; activating it is accepting the invitation
      (``membership_invitation_take_up`` from ``activation_complete``);
    - an address that already has a login anywhere (another company, operator staff, deactivated) gets
      an e-mail to accept or decline on its invitations page, and nothing of that login (its name,
      mobile, memberships, activation links) is touched. Operator staff and deactivated logins are never
      told and can never accept.

    Sending the form twice creates nothing twice: the database's unique constraints make the second
    attempt fail, and it is refused.
    """
    email = _normalise_email(email)
    try:
        with transaction.atomic():
            actor = _lock(actor_membership)
            company = actor.company
            _check_change(actor, Access(frozenset(), False), access)
            status = login_email_status(email=email, company_id=company.pk)
            if status != "free":
                raise AccessRefused(login_email_refusal(status), code=f"email_{status}")
            existing = _login_by_email(email)
            if existing is not None and not _unclaimed(existing):
                return _invitation_create(actor=actor, user=existing, email=email, access=access,
                                          site_url=site_url, request=request)
            user = existing or User(email=email)
            # A login nobody ever activated, of no company, with no open invitation (one withdrawn or
            # expired before it was used) is nobody's yet: it starts again as the new login it never became.
            user.full_name, user.mobile, user.is_active = full_name.strip(), mobile, True
            user.language = LANGUAGE_BY_COUNTRY.get(company.country, "da")
            user.set_unusable_password()
            user.full_clean()
            user.save()
            return _invitation_create(actor=actor, user=user, email=email, access=access, site_url=site_url,
                                      request=request, new_login=True)
    except IntegrityError:
        raise AccessRefused(
            _("A login with this e-mail address already has access to this company. Perhaps the form was sent twice?"),
            code="duplicate",
        ) from None


def _open_invitations(email: str):
    return MembershipInvitation.objects.filter(email__iexact=email, status=MembershipInvitation.Status.PENDING,
                                               expires_at__gt=timezone.now())


def _unclaimed(user: User) -> bool:
    """A login the wizard made that never became anyone's: never activated, of no company, not staff, and
    no invitation that made it is still open."""
    return (not user.is_staff and not user.has_usable_password() and user.last_login is None
            and not Membership.objects.filter(user=user).exists()
            and not _open_invitations(user.email).filter(new_login=True).exists())


def _invitation_create(*, actor: Membership, user: User, email: str, access: Access, site_url: str,
                       request=None, new_login: bool = False) -> MembershipInvitation:
    company = actor.company
    # An expired offer no longer counts as pending: it must not block a fresh one.
    _pending_invitations(company.pk, email).filter(expires_at__lte=timezone.now()).update(
        status=MembershipInvitation.Status.WITHDRAWN, answered_at=timezone.now())
    role = access.role
    invitation = MembershipInvitation(
        company=company, email=email, role=role, invited_by=actor.user, new_login=new_login,
        permissions=sorted(ALL_PERMISSIONS if role == Role.SUPERUSER else access.permissions),
        all_accounts=access.all_accounts, expires_at=timezone.now() + INVITATION_VALIDITY,
    )
    invitation.save()
    invitation.accounts.set([] if access.all_accounts else sorted(access.account_ids))
    # The inviting company's log names only the address it typed, never the login behind it, and reads the
    # same whether the address had a login or not.
    event = audit_record(action=Action.INVITATION_SENT, actor=actor.user, company=company,
                         changes=audit_diff({}, _audit_values(access, role)), request=request)
    event.target_label = email
    event.save(update_fields=["target_label"])
    if new_login:
        _send_invitation(user=user, company=company, actor=actor.user, site_url=site_url)
    elif user.is_active and not user.is_staff:
        _send_membership_invitation(user=user, invitation=invitation, actor=actor.user, site_url=site_url)
    return invitation


@transaction.atomic
def login_access_change(*, actor_membership: Membership, membership: Membership, access: Access,
                        request=None) -> Membership:
    """Change a colleague's permissions (and so its role) and account scope."""
    actor = _lock(actor_membership)
    target = _target(actor, membership)
    before = Access.of(target)
    _check_change(actor, before, access)
    before_role = target.role
    if access.role != Role.SUPERUSER:
        _check_superuser_stays(target, _("The company's last Superuser cannot lose the Superuser role."))
    before_values = _audit_values(before, before_role)
    _save_access(target, access)
    changes = audit_diff(before_values, _audit_values(access, target.role))
    if changes:
        audit_record(action=Action.ACCESS_CHANGED, actor=actor.user, company=actor.company, target=target.user,
                     changes=changes, request=request)
    return target


@transaction.atomic
def login_deactivate(*, actor_membership: Membership, membership: Membership, request=None) -> Membership:
    """The login keeps its settings but can no longer use this company."""
    actor = _lock(actor_membership)
    target = _target(actor, membership)
    if not target.is_active:
        return target
    _check_not_beyond(actor, target, _("You cannot deactivate a login that has more access than you."))
    _check_superuser_stays(target, _("The company's last Superuser cannot be deactivated."))
    target.is_active = False
    target.save(update_fields=["is_active"])
    audit_record(action=Action.LOGIN_DEACTIVATED, actor=actor.user, company=actor.company, target=target.user,
                 changes={"active": [True, False]}, request=request)
    return target


@transaction.atomic
def login_reactivate(*, actor_membership: Membership, membership: Membership, request=None) -> Membership:
    actor = _lock(actor_membership)
    target = _target(actor, membership)
    if target.is_active:
        return target
    _check_not_beyond(actor, target, _("You cannot reactivate a login that has more access than you."))
    target.is_active = True
    target.save(update_fields=["is_active"])
    audit_record(action=Action.LOGIN_REACTIVATED, actor=actor.user, company=actor.company, target=target.user,
                 changes={"active": [False, True]}, request=request)
    return target


@transaction.atomic
def login_remove(*, actor_membership: Membership, membership: Membership, request=None) -> User:
    """Take the login out of this company. A login left without any company (and not operator staff) is
    deactivated, never deleted: the audit log keeps pointing at it."""
    actor = _lock(actor_membership)
    target = _target(actor, membership)
    _check_not_beyond(actor, target, _("You cannot remove a login that has more access than you."))
    _check_superuser_stays(target, _("The company's last Superuser cannot be removed."))
    user = target.user
    changes = audit_diff(_audit_values(Access.of(target), target.role), {})
    target.delete()
    if not user.is_staff and not Membership.objects.filter(user=user).exists():
        user.is_active = False
        user.save(update_fields=["is_active"])
        # An invitation still in the post must not bring the login back.
        ActivationToken.objects.filter(user=user, used_at__isnull=True).delete()
        changes["login_active"] = [True, False]
    audit_record(action=Action.LOGIN_REMOVED, actor=actor.user, company=actor.company, target=user,
                 changes=changes, request=request)
    return user


@transaction.atomic
def login_invitation_resend(*, actor_membership: Membership, membership: Membership, site_url: str,
                            request=None) -> Membership:
    """A fresh invitation link for a login that has not been activated yet; the old link stops working."""
    actor = _lock(actor_membership)
    target = _target(actor, membership)
    if target.user.has_usable_password():
        raise AccessRefused(_("This login has already been activated."), code="activated")
    if not target.is_active:
        raise AccessRefused(_("Reactivate the login before sending a new invitation."), code="inactive")
    _send_invitation(user=target.user, company=actor.company, actor=actor.user, site_url=site_url)
    audit_record(action=Action.LOGIN_CHANGED, actor=actor.user, company=actor.company, target=target.user,
                 changes={"invitation": [None, "sent"]}, request=request)
    return target


def login_refusals(*, actor_membership: Membership, membership: Membership) -> dict[str, str]:
    """Why each action on this login would be refused right now ("" when it is allowed), so the page
    offers only what works. Reads only; the services check everything again when it is done."""

    def reason(*checks) -> str:
        try:
            for check in checks:
                check()
        except AccessRefused as refusal:
            return refusal.messages[0]
        return ""

    actor, target = actor_membership, membership

    def not_self():
        if target.user_id == actor.user_id:
            raise AccessRefused(_("You cannot change, deactivate or remove your own login."))

    return {
        "change": reason(not_self),
        "deactivate": reason(
            not_self,
            lambda: _check_not_beyond(actor, target, _("You cannot deactivate a login that has more access than you.")),
            lambda: _check_superuser_stays(target, _("The company's last Superuser cannot be deactivated.")),
        ),
        "reactivate": reason(
            not_self,
            lambda: _check_not_beyond(actor, target, _("You cannot reactivate a login that has more access than you.")),
        ),
        "remove": reason(
            not_self,
            lambda: _check_not_beyond(actor, target, _("You cannot remove a login that has more access than you.")),
            lambda: _check_superuser_stays(target, _("The company's last Superuser cannot be removed.")),
        ),
        "demote": reason(
            lambda: _check_superuser_stays(target, _("The company's last Superuser cannot lose the Superuser role.")),
        ),
    }


# Invitations to an existing login: the login's answer -------------------------------------------

def _invitation_access(invitation: MembershipInvitation) -> Access:
    ids = frozenset() if invitation.all_accounts else frozenset(invitation.accounts.values_list("pk", flat=True))
    return Access(frozenset(invitation.permissions), invitation.all_accounts, ids)


def _invitation_for_answer(*, user: User, invitation: MembershipInvitation) -> MembershipInvitation:
    """The invitation, locked, if it is addressed to this login and still open; another login's is a 404."""
    locked = (
        MembershipInvitation.objects.select_for_update().select_related("company")
        .filter(pk=invitation.pk, email__iexact=user.email).first()
    )
    if locked is None or not user.is_active or user.is_staff:
        raise Http404
    if locked.status != MembershipInvitation.Status.PENDING or locked.expires_at <= timezone.now():
        raise AccessRefused(_("This invitation is no longer open. Ask the company to invite you again."),
                            code="closed")
    return locked


def _close(invitation: MembershipInvitation, status: str) -> None:
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])


@transaction.atomic
def membership_invitation_accept(*, user: User, invitation: MembershipInvitation, request=None) -> Membership:
    """The login takes up the offer: a membership of the inviting company with the access offered.

    The offer is checked again now: the inviter must still manage users there and may still hand out
    that access (what it lost meanwhile is refused, and nothing is created). The login's other
    memberships stay as they are; each of its companies' logs notes the new company.
    """
    invitation = _invitation_for_answer(user=user, invitation=invitation)
    company = invitation.company
    inviter = Membership.objects.filter(user_id=invitation.invited_by_id, company=company).first()
    if inviter is None:
        raise AccessRefused(_("This invitation can no longer be accepted: the person who sent it no longer manages "
                              "users at %(company)s. Ask them to invite you again.") % {"company": company.name},
                            code="inviter_gone")
    try:
        actor = _lock(inviter)
        access = _invitation_access(invitation)
        _check_change(actor, Access(frozenset(), False), access)
    except AccessRefused:
        raise AccessRefused(_("This invitation can no longer be accepted: the access it offers is no longer the "
                              "inviter's to give. Ask %(company)s to invite you again.") % {"company": company.name},
                            code="offer_beyond_inviter") from None
    if Membership.objects.filter(user=user, company=company).exists():
        _close(invitation, MembershipInvitation.Status.ACCEPTED)
        raise AccessRefused(_("You already have access to %(company)s.") % {"company": company.name}, code="member")
    other_company_ids = list(Membership.objects.filter(user=user).values_list("company_id", flat=True))
    membership = Membership(user=user, company=company)
    _save_access(membership, access)
    _close(invitation, MembershipInvitation.Status.ACCEPTED)
    audit_record(action=Action.INVITATION_ACCEPTED, actor=user, company=company, target=user,
                 changes=audit_diff({}, _audit_values(access, membership.role)), request=request)
    for company_id in other_company_ids:
        audit_record(action=Action.INVITATION_ACCEPTED, actor=user, company=Company(pk=company_id), target=user,
                     changes={"company": [None, company.name]}, request=request)
    return membership


def membership_invitation_take_up(*, user: User, request=None) -> list[Membership]:
    """A new login's activation is its acceptance of the invitation that made it (``new_login``), checked
    as any acceptance is. Call it in the activation's transaction. An offer that can no longer be accepted
    (the inviter has lost the right meanwhile) stays open: the login, signed in now, reads why on its
    invitations page, and the inviting company sees it still invited."""
    memberships = []
    for invitation in _open_invitations(user.email).filter(new_login=True):
        try:
            with transaction.atomic():
                memberships.append(membership_invitation_accept(user=user, invitation=invitation, request=request))
        except AccessRefused:
            pass
    return memberships


@transaction.atomic
def membership_invitation_decline(*, user: User, invitation: MembershipInvitation, request=None) -> None:
    """The login says no; the inviting company learns only that the address it typed declined."""
    invitation = _invitation_for_answer(user=user, invitation=invitation)
    _close(invitation, MembershipInvitation.Status.DECLINED)
    event = audit_record(action=Action.INVITATION_DECLINED, company=invitation.company, request=None)
    event.target_label = invitation.email
    event.save(update_fields=["target_label"])


@transaction.atomic
def membership_invitation_withdraw(*, actor_membership: Membership, invitation: MembershipInvitation,
                                   request=None) -> None:
    """The inviting company takes its open offer back."""
    actor = _lock(actor_membership)
    locked = MembershipInvitation.objects.select_for_update().filter(
        pk=invitation.pk, company_id=actor.company_id).first()
    if locked is None:
        raise Http404
    if locked.status != MembershipInvitation.Status.PENDING:
        return
    _close(locked, MembershipInvitation.Status.WITHDRAWN)
    if locked.new_login:
        # The activation link was the way to accept: it stops working now (ended as expired, so an activation
        # under way is refused cleanly). The login made for the address stays nobody's (see _unclaimed).
        ActivationToken.objects.filter(
            user__email__iexact=locked.email, user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
            kind=ActivationToken.Kind.INVITATION, used_at__isnull=True,
        ).update(expires_at=timezone.now())
    event = audit_record(action=Action.INVITATION_WITHDRAWN, actor=actor.user, company=actor.company, request=request)
    event.target_label = locked.email
    event.save(update_fields=["target_label"])


# A colleague's own details ------------------------------------------------------------------------

def login_details_editable(*, actor_membership: Membership, membership: Membership) -> str:
    """Why the actor may not change this colleague's name, e-mail and mobile ("" when it may)."""
    if membership.user_id == actor_membership.user_id:
        return _("Change your own name, e-mail and mobile on your profile.")
    if Membership.objects.filter(user_id=membership.user_id).exclude(company_id=membership.company_id).exists():
        return _("This login also has access to another company and signs in there with the same details, so only "
                 "the login itself can change its name, e-mail and mobile, on its own profile.")
    try:
        _check_not_beyond(actor_membership, membership,
                          _("You cannot change the details of a login that has more access than you."))
    except AccessRefused as refusal:
        return refusal.messages[0]
    return ""


def login_details_change(*, actor_membership: Membership, membership: Membership, full_name: str, email: str,
                         mobile: str, confirm_url: str, request=None) -> dict:
    """Change a colleague's name at once; a new e-mail or mobile only asks for confirmation, by the same
    rules as one's own profile: a code to the new address or number, which the colleague enters while
    signed in (accounts.services.profile). Returns what was done: {"name", "email", "mobile"}."""
    with transaction.atomic():
        actor = _lock(actor_membership)
        target = _target(actor, membership)
        reason = login_details_editable(actor_membership=actor, membership=target)
        if reason:
            raise AccessRefused(reason, code="details_not_editable")
        user = User.objects.select_for_update().get(pk=target.user_id)
        done = {"name": False, "email": "", "mobile": ""}
        full_name = " ".join((full_name or "").split())
        if full_name and full_name != user.full_name:
            changes = audit_diff({"full_name": user.full_name}, {"full_name": full_name})
            user.full_name = full_name
            user.full_clean(exclude=["password", "email", "mobile"])
            user.save(update_fields=["full_name"])
            audit_record(action=Action.LOGIN_CHANGED, actor=actor.user, company=actor.company, target=user,
                         changes=changes, request=request)
            done["name"] = True
    email = _normalise_email(email)
    if email and email != user.email.lower():
        try:
            done["email"] = email_change_start(user=user, new_email=email, confirm_url=confirm_url)
        except ValidationError as error:
            # An address taken by another login is not this company's business: say the same as for a
            # free one (the confirmation can never succeed anyway).
            if getattr(error, "code", None) != "email_taken":
                raise AccessRefused(error.messages, code="email") from None
            done["email"] = email
    if mobile and mobile != user.mobile:
        try:
            done["mobile"] = mobile_change_start(user=user, new_mobile=mobile)
        except ValidationError as error:
            raise AccessRefused(error.messages, code="mobile") from None
    return done
