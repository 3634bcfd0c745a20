"""The users pages refuse other companies' logins, members without "manage users", and strangers."""

from django.urls import reverse

from accounts.models import ActivationToken, Membership
from accounts.permissions import Permission
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def colleague_in(company, account):
    """A colleague with no functions, so any member with "manage users" may act on it."""
    return {"pk": make_member(company, permissions=set()).pk}


def restricted_colleague_in(company, account):
    """A colleague with no functions, restricted to one account number."""
    return {"pk": make_member(company, permissions=set(), accounts=[account]).pk}


def deactivated_colleague_in(company, account):
    membership = make_member(company, permissions=set())
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    return {"pk": membership.pk}


def invited_colleague_in(company, account):
    membership = make_member(company, permissions=set())
    membership.user.set_unusable_password()
    membership.user.save(update_fields=["password"])
    return {"pk": membership.pk}


def invitation_of(company, account):
    """An open invitation of the company, addressed to a login that is not the one the check signs in."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import MembershipInvitation

    invitation = MembershipInvitation.objects.create(
        company=company, email=f"{marker('invited.elsewhere')}@example.com",
        expires_at=timezone.now() + timedelta(days=7))
    return {"pk": invitation.pk}


def _details(company, account):
    return {"wizard": "unknown", "step": "details"}


def _colleague(case):
    return Membership.objects.filter(pk=case.kwargs["pk"]).first()


def _login_page(case):
    return reverse("accounts:user_edit", kwargs=case.kwargs)


def _invitation_sent(case):
    user = _colleague(case).user
    return (ActivationToken.objects.filter(user=user, kind=ActivationToken.Kind.INVITATION, used_at=None).exists()
            and OutboxMessage.objects.filter(channel="email", recipient=user.email).exists())


def _details_saved(case):
    """The name changes at once; the new e-mail waits for the code sent to it."""
    user = _colleague(case).user
    user.refresh_from_db()
    return (user.full_name == "Ny" and user.email != "ny@example.com"
            and OutboxMessage.objects.filter(channel="email", recipient="ny@example.com").exists())


def _invitation_open(case):
    """The invitation is still there, undecided (nothing happened to it)."""
    from accounts.models import MembershipInvitation

    invitation = MembershipInvitation.objects.filter(pk=case.kwargs["pk"]).first()
    return invitation is not None and invitation.status == MembershipInvitation.Status.PENDING


class TestUserPagesAccess(TenantRouteTests):
    routes = [
        # The wizard opens behind the step-up: a fresh session is sent to "confirm it is you" (302);
        # tests/accounts/test_users_step_up.py follows it through to the page.
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS, ok_status=(302,),
                   expect_location="accounts:reauth"),
        # An unknown wizard starts over, and nothing is created.
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS, method="post", make_data=_details,
                   ok_status=(302,), expect_location="accounts:user_create",
                   effect=lambda case: Membership.objects.filter(company=case.company).count() == 1),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, method="post", make_object=restricted_colleague_in,
                   account_scoped=False, make_data=lambda company, account: {"role": "custom", "scope": "all"},
                   step_up=True, ok_status=(302,), expect_location=_login_page,
                   effect=lambda case: _colleague(case).all_accounts),
        RouteCheck("accounts:user_deactivate", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, step_up=True, ok_status=(302,), expect_location=_login_page,
                   effect=lambda case: not _colleague(case).is_active),
        RouteCheck("accounts:user_reactivate", Permission.MANAGE_USERS, method="post",
                   make_object=deactivated_colleague_in, account_scoped=False, step_up=True, ok_status=(302,),
                   expect_location=_login_page, effect=lambda case: _colleague(case).is_active),
        RouteCheck("accounts:user_invitation", Permission.MANAGE_USERS, method="post",
                   make_object=invited_colleague_in, account_scoped=False, ok_status=(302,),
                   expect_location=_login_page, effect=_invitation_sent),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, step_up=True, ok_status=(302,), expect_location="accounts:users",
                   effect=lambda case: _colleague(case) is None),
        RouteCheck("accounts:user_details", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, step_up=True, ok_status=(302,),
                   make_data=lambda company, account: {"full_name": "Ny", "email": "ny@example.com",
                                                       "mobile": "+4520202020"},
                   expect_location=_login_page, effect=_details_saved),
        RouteCheck("accounts:user_invitation_withdraw", Permission.MANAGE_USERS, method="post",
                   make_object=invitation_of, account_scoped=False, ok_status=(302,),
                   expect_location="accounts:users", effect=lambda case: not _invitation_open(case)),
    ]


class TestInvitationPagesAccess(TenantRouteTests):
    """The invited login's own pages: signed in with a second factor, no company needed. The check's
    member is never the addressee, so accepting or declining is a 404 for it (the same as a missing
    invitation); tests/accounts/test_users_consent.py proves the addressee's way through."""

    routes = [
        RouteCheck("accounts:invitations", None, tenant=False),
        RouteCheck("accounts:invitation_accept", None, method="post", tenant=False, make_object=invitation_of,
                   account_scoped=False, ok_status=(404,), effect=_invitation_open),
        RouteCheck("accounts:invitation_decline", None, method="post", tenant=False, make_object=invitation_of,
                   account_scoped=False, ok_status=(404,), effect=_invitation_open),
    ]
