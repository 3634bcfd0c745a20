"""The users pages refuse other companies' logins, members without "manage users", and strangers."""

from django.urls import reverse

from accounts.models import ActivationToken, Membership
from accounts.permissions import Permission
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member
from tests.tenancy import RouteCheck, TenantRouteTests


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


class TestUserPagesAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS),
        # An unknown wizard starts over, and nothing is created.
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS, method="post", make_data=_details,
                   ok_status=(302,), expect_location="accounts:user_create",
                   effect=lambda case: Membership.objects.filter(company=case.company).count() == 1),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_edit", Permission.MANAGE_USERS, method="post", make_object=restricted_colleague_in,
                   account_scoped=False, make_data=lambda company, account: {"role": "custom", "scope": "all"},
                   ok_status=(302,), expect_location=_login_page, effect=lambda case: _colleague(case).all_accounts),
        RouteCheck("accounts:user_deactivate", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,), expect_location=_login_page,
                   effect=lambda case: not _colleague(case).is_active),
        RouteCheck("accounts:user_reactivate", Permission.MANAGE_USERS, method="post",
                   make_object=deactivated_colleague_in, account_scoped=False, ok_status=(302,),
                   expect_location=_login_page, effect=lambda case: _colleague(case).is_active),
        RouteCheck("accounts:user_invitation", Permission.MANAGE_USERS, method="post",
                   make_object=invited_colleague_in, account_scoped=False, ok_status=(302,),
                   expect_location=_login_page, effect=_invitation_sent),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, make_object=colleague_in, account_scoped=False),
        RouteCheck("accounts:user_remove", Permission.MANAGE_USERS, method="post", make_object=colleague_in,
                   account_scoped=False, ok_status=(302,), expect_location="accounts:users",
                   effect=lambda case: _colleague(case) is None),
    ]
