"""Access checks for the routes of My profile (pages of the login itself) and the company profile's POST."""

from django.contrib.auth import SESSION_KEY

from accounts.permissions import Permission
from selfcare.outbox.models import OutboxMessage
from tests.tenancy import RouteCheck, TenantRouteTests


def _company_profile_data(company, account):
    return {"street": "Ny Vej 2", "postal_code": "8000", "city": "Aarhus C", "status_emails": "on"}


def _company_profile_saved(case):
    case.company.refresh_from_db()
    return (case.company.street, case.company.postal_code, case.company.city) == ("Ny Vej 2", "8000", "Aarhus C")


def _name_saved(case):
    case.user.refresh_from_db()
    return case.user.full_name == "Ny Navn"


def _code_sent(case):
    return OutboxMessage.objects.filter(channel="sms", recipient=case.user.mobile).exists()


class TestProfilePageAccess(TenantRouteTests):
    """Signed in with a second factor; no company needed. The pages behind the step-up answer a fresh
    session with a redirect to it (302), which tests/accounts/test_profile.py follows through."""

    routes = [
        RouteCheck("accounts:reauth", None, tenant=False),
        RouteCheck("accounts:reauth_send_sms", None, method="post", tenant=False, ok_status=(302,),
                   expect_location="accounts:reauth", effect=_code_sent),
        RouteCheck("accounts:profile_email", None, tenant=False, ok_status=(302,), expect_location="accounts:reauth"),
        RouteCheck("accounts:profile_email_confirm", None, tenant=False),
        RouteCheck("accounts:profile_mobile", None, tenant=False, ok_status=(302,), expect_location="accounts:reauth"),
        RouteCheck("accounts:profile_mobile_confirm", None, tenant=False),
        RouteCheck("accounts:profile_password", None, tenant=False, ok_status=(302,),
                   expect_location="accounts:reauth"),
        # Ends every *other* session: this one stays signed in.
        RouteCheck("accounts:profile_sessions_end", None, method="post", tenant=False, ok_status=(302,),
                   expect_location="accounts:profile", effect=lambda case: SESSION_KEY in case.client.session),
        RouteCheck("accounts:profile", None, method="post", tenant=False, ok_status=(302,),
                   make_data=lambda company, account: {"full_name": "Ny Navn"},
                   expect_location="accounts:profile", effect=_name_saved),
    ]


class TestCompanyProfileWriteAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:company_profile", Permission.MANAGE_COMPANY, method="post",
                   make_data=_company_profile_data, step_up=True, ok_status=(302,),
                   expect_location="accounts:company_profile", effect=_company_profile_saved),
    ]
