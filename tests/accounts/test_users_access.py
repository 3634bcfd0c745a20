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


def _details(company, account):
    return {"wizard": "unknown", "step": "details"}


class TestUserPagesAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:user_create", Permission.MANAGE_USERS),
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
    ]
