"""Reads for logins and access (HackSoft style: keyword-only; the company is part of every look-up).

``access_membership`` fetches and authorises in one step: another company's login and a missing one
are the same 404.
"""

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import ActivationToken, AuditEvent, Membership, MembershipInvitation
from accounts.permissions import ALL_PERMISSIONS, Permission, Role
from subscriptions.models import BillingAccount

# The users page's sort keys (a leading "-" reverses), mapped to database orderings.
ROLE_RANK = [Role.SUPERUSER, Role.ADMINISTRATOR, Role.ORDERER, Role.APPROVER, Role.READ_ONLY, Role.CUSTOM]
MEMBERSHIP_SORTS = {
    "name": ("user_name_lower", "user_email_lower"),
    "email": ("user_email_lower",),
    "role": ("role_rank", "user_name_lower"),
    "last_login": ("user__last_login", "user_name_lower"),
}
DEFAULT_MEMBERSHIP_SORT = "name"


def membership_permissions(membership: Membership) -> frozenset[str]:
    """What the login may do in its company: a Superuser has every permission, whatever is stored."""
    if membership.role == Role.SUPERUSER:
        return ALL_PERMISSIONS
    return frozenset(membership.permissions) & ALL_PERMISSIONS


def membership_account_ids(membership: Membership) -> frozenset[int] | None:
    """The billing accounts in the membership's scope; None means all of the company's."""
    if membership.all_accounts:
        return None
    return frozenset(membership.accounts.values_list("pk", flat=True))


def _with_status(queryset: QuerySet) -> QuerySet:
    """``invited``: the login has never been activated (no password yet); ``invitation_open``: an
    unused, unexpired activation link or code exists."""
    open_tokens = ActivationToken.objects.filter(
        user_id=OuterRef("user_id"), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    return queryset.annotate(
        invited=Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX), invitation_open=Exists(open_tokens)
    )


def membership_list(*, membership: Membership, search: str = "", sort: str = DEFAULT_MEMBERSHIP_SORT) -> QuerySet:
    """Every login of the membership's company, searched and sorted in the database.

    Each row carries its status (see ``_with_status``); the restricted scopes' accounts come in one
    prefetch query.
    """
    queryset = (
        _with_status(Membership.objects.filter(company_id=membership.company_id))
        .select_related("user")
        .annotate(
            user_name_lower=Lower("user__full_name"),
            user_email_lower=Lower("user__email"),
            role_rank=Case(
                *(When(role=role, then=Value(rank)) for rank, role in enumerate(ROLE_RANK)),
                default=Value(len(ROLE_RANK)), output_field=IntegerField(),
            ),
        )
        .prefetch_related(
            Prefetch("accounts", queryset=BillingAccount.objects.only("pk", "number", "company_id").order_by("number"))
        )
    )
    search = (search or "").strip()
    if search:
        queryset = queryset.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search) | Q(user__mobile__icontains=search)
        )
    key = sort.removeprefix("-")
    if key not in MEMBERSHIP_SORTS:
        key, sort = DEFAULT_MEMBERSHIP_SORT, DEFAULT_MEMBERSHIP_SORT
    descending = sort.startswith("-")
    ordering = []
    for field in MEMBERSHIP_SORTS[key]:
        expression = F(field)
        ordering.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return queryset.order_by(*ordering, "pk")


def access_membership(*, membership: Membership, pk) -> Membership:
    """A login of the membership's own company, or Http404 (missing and foreign alike)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (
        _with_status(Membership.objects.filter(company_id=membership.company_id, pk=pk))
        .select_related("user", "company")
        .first()
    )
    if found is None:
        raise Http404
    return found


def manageable_memberships(*, user) -> list[Membership]:
    """The login's active memberships in which it may manage users (the wizard's company step)."""
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("company").order_by(
        "company__name", "pk"
    )
    return [m for m in memberships if Permission.MANAGE_USERS in membership_permissions(m)]


def manageable_membership_for(*, user, company_id) -> Membership | None:
    """The login's membership of that company if it may manage users there, else None."""
    for membership in manageable_memberships(user=user):
        if membership.company_id == company_id:
            return membership
    return None


def grantable_accounts(*, membership: Membership) -> QuerySet:
    """The billing accounts the membership's login may hand out in its company: its own scope."""
    return BillingAccount.objects.for_membership(membership).order_by("number")


# Invitations to existing logins -----------------------------------------------------------------

def membership_invitation_list(*, membership: Membership) -> QuerySet:
    """The company's open invitations: the address as typed and the access offered, nothing of the login."""
    return (
        MembershipInvitation.objects.filter(company_id=membership.company_id,
                                            status=MembershipInvitation.Status.PENDING,
                                            expires_at__gt=timezone.now())
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )


def access_membership_invitation(*, membership: Membership, pk) -> MembershipInvitation:
    """An invitation of the membership's own company, or Http404 (missing and foreign alike)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = MembershipInvitation.objects.filter(company_id=membership.company_id, pk=pk).first()
    if found is None:
        raise Http404
    return found


def membership_invitations_pending(*, user) -> QuerySet:
    """The open invitations addressed to this login. Never any for operator staff or a deactivated login:
    those cannot take up customer access."""
    if not user.is_authenticated or user.is_staff or not user.is_active:
        return MembershipInvitation.objects.none()
    return (
        MembershipInvitation.objects.filter(email__iexact=user.email, status=MembershipInvitation.Status.PENDING,
                                            expires_at__gt=timezone.now())
        .select_related("company", "invited_by")
        .prefetch_related(Prefetch("accounts", queryset=BillingAccount.objects.order_by("number")))
        .order_by("-created_at", "-pk")
    )


def access_invitation_for_login(*, user, pk) -> MembershipInvitation:
    """An open invitation addressed to this login, or Http404 (another login's is the same as none)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = membership_invitations_pending(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def audit_event_list(*, membership: Membership) -> QuerySet:
    """The active company's audit log. Other companies' events, and events without a company (operator
    staff, unknown addresses), never enter the queryset."""
    return AuditEvent.objects.filter(company_id=membership.company_id)


def shortcut_list(*, membership: Membership) -> list:
    """The login's shortcuts in this company, in its order, leaving out any whose page it may no longer
    open (its permissions changed since it saved them)."""
    from accounts.models import Shortcut
    from accounts.services.shortcuts import shortcut_opens

    shortcuts = Shortcut.objects.filter(user_id=membership.user_id, company_id=membership.company_id)
    return [shortcut for shortcut in shortcuts.order_by("position", "pk")
            if shortcut_opens(shortcut, membership=membership)]


def access_shortcut(*, membership: Membership, pk):
    """One of the login's own shortcuts in this company; anyone else's, or a missing one, is a 404."""
    from accounts.models import Shortcut

    shortcut = Shortcut.objects.filter(user_id=membership.user_id, company_id=membership.company_id, pk=pk).first()
    if shortcut is None:
        raise Http404
    return shortcut
