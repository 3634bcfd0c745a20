"""Access checks for the routes of My profile (pages of the login itself) and the company profile's POST."""

from accounts.permissions import Permission
from tests.tenancy import RouteCheck, TenantRouteTests


def _company_profile_data(company, account):
    return {"street": "Ny Vej 2", "postal_code": "8000", "city": "Aarhus C", "status_emails": "on"}


class TestProfilePageAccess(TenantRouteTests):
    """Signed in with a second factor; no company needed. The pages behind the step-up answer a fresh
    session with a redirect to it (302), which tests/accounts/test_profile.py follows through."""

    routes = [
        RouteCheck("accounts:reauth", None, tenant=False),
        RouteCheck("accounts:reauth_send_sms", None, method="post", tenant=False, ok_status=(302,)),
        RouteCheck("accounts:profile_email", None, tenant=False, ok_status=(302,)),
        RouteCheck("accounts:profile_email_confirm", None, tenant=False),
        RouteCheck("accounts:profile_mobile", None, tenant=False, ok_status=(302,)),
        RouteCheck("accounts:profile_mobile_confirm", None, tenant=False),
        RouteCheck("accounts:profile_password", None, tenant=False, ok_status=(302,)),
        RouteCheck("accounts:profile_sessions_end", None, method="post", tenant=False, ok_status=(302,)),
        RouteCheck("accounts:profile", None, method="post", tenant=False, ok_status=(302,),
                   make_data=lambda company, account: {"full_name": "Ny Navn"}),
    ]


class TestCompanyProfileWriteAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:company_profile", Permission.MANAGE_COMPANY, method="post",
                   make_data=_company_profile_data, ok_status=(302,)),
    ]
