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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ActivationToken, Company, Country, Membership, User
from accounts.permissions import ALL_PERMISSIONS, Permission, Role, role_for_permissions
from accounts.selectors import membership_account_ids, membership_permissions
from accounts.services.activation import INVITATION_VALIDITY, activation_issue_invitation
from accounts.services.audit import Action, audit_diff, audit_record
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


def _send_access_granted(*, user: User, company: Company, actor: User, site_url: str) -> None:
    context = {"user": user, "company": company, "actor": actor,
               "link": site_url.rstrip("/") + reverse("accounts:login")}
    with translation.override(user.language):
        subject = render_to_string("accounts/email/invitation_existing_login_subject.txt", context)
        subject = "".join(subject.splitlines())
        body = render_to_string("accounts/email/invitation_existing_login.txt", context)
    outbox_enqueue_email(to=user.email, subject=subject, body=body)


# The services ----------------------------------------------------------------------------------

def login_email_status(*, email: str, company_id: int) -> str:
    """How an e-mail address stands for a new login in this company: "new", "existing" (a login that
    may be given access), "member" (already has access), "staff" or "deactivated" (cannot be used)."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        return "new"
    if user.is_staff:
        return "staff"
    if not user.is_active:
        return "deactivated"
    if Membership.objects.filter(user=user, company_id=company_id).exists():
        return "member"
    return "existing"


EMAIL_REFUSALS = {
    "staff": gettext_lazy("This e-mail address belongs to an operator employee and cannot be used for a customer "
                          "login."),
    "deactivated": gettext_lazy("This e-mail address belongs to a deactivated login. Contact support to have it "
                                "reactivated."),
    "member": gettext_lazy("This e-mail address already has a login for this company. Change its access on the "
                           "users page."),
    "existing": gettext_lazy("This e-mail address already has a Selfcare login. Tick the box to give that login "
                             "access to this company instead."),
}


def login_email_refusal(status: str) -> str:
    return str(EMAIL_REFUSALS[status])


def login_create(*, actor_membership: Membership, full_name: str, email: str, mobile: str, access: Access,
                 site_url: str, use_existing_login: bool = False, request=None) -> Membership:
    """Create a colleague's login in the actor's company (its membership), with an invitation e-mail.

    ``actor_membership`` is the actor's membership of the company the login is for. If the e-mail
    already has a login (of another company) and ``use_existing_login`` is set, that login is given
    access instead; its name and mobile stay as they are. Sending the form twice creates nothing twice:
    the database's unique constraints make the second attempt fail, and it is refused.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        with transaction.atomic():
            actor = _lock(actor_membership)
            company = actor.company
            _check_change(actor, Access(frozenset(), False), access)
            status = login_email_status(email=email, company_id=company.pk)
            if status == "existing" and use_existing_login:
                user = User.objects.get(email__iexact=email)
            elif status != "new":
                raise AccessRefused(login_email_refusal(status), code=f"email_{status}")
            else:
                user = User(email=email, full_name=full_name.strip(), mobile=mobile,
                            language=LANGUAGE_BY_COUNTRY.get(company.country, "da"))
                user.set_unusable_password()
                user.full_clean()
                user.save()
            membership = Membership(user=user, company=company)
            _save_access(membership, access)
            changes = audit_diff({}, {
                "email": user.email, "full_name": user.full_name, "mobile": user.mobile,
                **_audit_values(access, membership.role),
            })
            audit_record(action=Action.LOGIN_CREATED, actor=actor.user, company=company, target=user,
                         changes=changes, request=request)
            if user.has_usable_password():
                _send_access_granted(user=user, company=company, actor=actor.user, site_url=site_url)
            else:
                _send_invitation(user=user, company=company, actor=actor.user, site_url=site_url)
    except IntegrityError:
        raise AccessRefused(
            _("A login with this e-mail address already has access to this company. Perhaps the form was sent twice?"),
            code="duplicate",
        ) from None
    return membership


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
