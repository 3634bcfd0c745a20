"""The users pages refuse other companies' logins, members without "manage users", and strangers."""

from accounts.permissions import Permission
from tests.conftest import make_member
from tests.tenancy import RouteCheck, TenantRouteTests


def colleague_in(company, account):
    """A colleague with no functions, so any member with "manage users" may act on it."""
    return {"pk": make_member(company, permissions=set()).pk}


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
        company=company, email="invited.elsewhere@example.com", expires_at=timezone.now() + timedelta(days=7))
    return {"pk": invitation.pk}


def _details(company, account):
    return {"wizard": "unknown", "step": "details"}


class TestUserPagesAccess(TenantRouteTests):
    routes = [
        # The wizard opens behind the step-up: a fresh session is sent to "confirm it is you" (302);
        # tests/accounts/test_users_step_up.py follows it through to the page.
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS, ok_status=(302,)),
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS, method="post", make_data=_details,
                   ok_status=(302,)),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, make_data=lambda company, account: {"role": "custom", "scope": "all"},
                   ok_status=(302,)),
        RouteCheck("accounts:user_deactivate", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,)),
        RouteCheck("accounts:user_reactivate", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,)),
        RouteCheck("accounts:user_invitation", Permission.MANAGE_USERS, method="post",
                   make_object=invited_colleague_in, account_scoped=False, ok_status=(302,)),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,)),
        RouteCheck("accounts:user_details", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,),
                   make_data=lambda company, account: {"full_name": "Ny", "email": "ny@example.com",
                                                       "mobile": "+4520202020"}),
        RouteCheck("accounts:user_invitation_withdraw", Permission.MANAGE_USERS, method="post",
                   make_object=invitation_of, account_scoped=False, ok_status=(302,)),
    ]


class TestInvitationPagesAccess(TenantRouteTests):
    """The invited login's own pages: signed in with a second factor, no company needed. The check's
    member is never the addressee, so accepting or declining is a 404 for it (the same as a missing
    invitation); tests/accounts/test_users_consent.py proves the addressee's way through."""

    routes = [
        RouteCheck("accounts:invitations", None, tenant=False),
        RouteCheck("accounts:invitation_accept", None, method="post", tenant=False, make_object=invitation_of,
                   account_scoped=False, ok_status=(404,)),
        RouteCheck("accounts:invitation_decline", None, method="post", tenant=False, make_object=invitation_of,
                   account_scoped=False, ok_status=(404,)),
    ]
