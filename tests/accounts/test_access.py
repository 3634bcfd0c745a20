from urllib.parse import parse_qs, urlsplit

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import AuditEvent
from accounts.permissions import Permission
from tests.conftest import make_member
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def colleague_row(company, account):
    """A colleague's login, listed on the users page by name."""
    return make_member(company, permissions=set(), full_name=marker("Colleague")).user.full_name


def audit_event_row(company, account):
    """An event in the company's audit log, shown (and exported) with the login it concerns."""
    label = f"{marker('event')}@example.com"
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_CHANGED, company=company, target_label=label)
    return label


def _stepped_up_and_unchanged(case):
    """A fresh session is sent to the step-up, to come back to the second-factor page; nothing changed."""
    back = parse_qs(urlsplit(case.response["Location"]).query).get("next")
    return back == [reverse("accounts:two_factor")] and not TOTPDevice.objects.filter(user=case.user).exists()


class TestAreaAccess(TenantRouteTests):
    routes = [
        RouteCheck("overview", None),
        RouteCheck("accounts:users", Permission.MANAGE_USERS, kind="list", make_row=colleague_row,
                   account_scoped=False),
        RouteCheck("accounts:users_export", Permission.MANAGE_USERS, kind="export", make_row=colleague_row,
                   account_scoped=False),
        RouteCheck("accounts:users_export_xlsx", Permission.MANAGE_USERS, kind="export", make_row=colleague_row,
                   account_scoped=False),
        RouteCheck("orders:index", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS)),
        RouteCheck("invoices:index", Permission.VIEW_INVOICES),
        # tickets:index (the company's open support cases) is declared in tests/tickets/test_access.py.
        # groups:index (everyone who may see subscriptions sees the groups) is declared in tests/groups/test_access.py.
        RouteCheck(
            "accounts:company_switch", None, method="post",
            make_data=lambda company, account: {"company": company.pk}, ok_status=(302,),
            expect_location="overview",
            effect=lambda case: case.client.session[SESSION_COMPANY_KEY] == case.company.pk,
        ),
    ]


class TestLoginPageAccess(TenantRouteTests):
    """Pages of the signed-in login itself: second factor required, no company needed. The second-factor
    changes need a recent step-up, which a fresh session lacks: they send it there and change nothing."""

    routes = [
        RouteCheck("accounts:two_factor", None, tenant=False),
        RouteCheck("accounts:profile", None, tenant=False),
        RouteCheck("accounts:authenticator_start", None, method="post", tenant=False, ok_status=(302,),
                   expect_location="accounts:reauth", effect=_stepped_up_and_unchanged),
        RouteCheck("accounts:authenticator_confirm", None, method="post", tenant=False, ok_status=(302,),
                   make_data=lambda company, account: {"token": "000000"},
                   expect_location="accounts:reauth", effect=_stepped_up_and_unchanged),
        RouteCheck("accounts:authenticator_remove", None, method="post", tenant=False, ok_status=(302,),
                   expect_location="accounts:reauth", effect=_stepped_up_and_unchanged),
    ]


class TestCompanyAdministrationAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:company_profile", Permission.MANAGE_COMPANY),
        RouteCheck("accounts:audit_log", Permission.MANAGE_COMPANY, kind="list", make_row=audit_event_row,
                   account_scoped=False),
        RouteCheck("accounts:audit_log_export", Permission.MANAGE_COMPANY, kind="export", make_row=audit_event_row,
                   account_scoped=False),
        RouteCheck("accounts:audit_log_export_xlsx", Permission.MANAGE_COMPANY, kind="export",
                   make_row=audit_event_row, account_scoped=False),
    ]
