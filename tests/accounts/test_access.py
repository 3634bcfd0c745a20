from accounts.permissions import Permission
from tests.tenancy import RouteCheck, TenantRouteTests


class TestAreaAccess(TenantRouteTests):
    routes = [
        RouteCheck("overview", None),
        RouteCheck("accounts:users", Permission.MANAGE_USERS),
        RouteCheck("orders:index", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS)),
        RouteCheck("invoices:index", Permission.VIEW_INVOICES),
        RouteCheck("tickets:index", (Permission.CREATE_SUPPORT_CASES, Permission.CREATE_FAULT_REPORTS)),
        RouteCheck("groups:index", Permission.MANAGE_GROUPS),
        RouteCheck(
            "accounts:company_switch", None, method="post",
            make_data=lambda company, account: {"company": company.pk}, ok_status=(302,),
        ),
    ]


class TestLoginPageAccess(TenantRouteTests):
    """Pages of the signed-in login itself: second factor required, no company needed."""

    routes = [
        RouteCheck("accounts:two_factor", None, tenant=False),
        RouteCheck("accounts:profile", None, tenant=False),
        RouteCheck("accounts:authenticator_start", None, method="post", tenant=False, ok_status=(302,)),
        RouteCheck("accounts:authenticator_confirm", None, method="post", tenant=False, ok_status=(302,),
                   make_data=lambda company, account: {"token": "000000"}),
        RouteCheck("accounts:authenticator_remove", None, method="post", tenant=False, ok_status=(302,)),
    ]


class TestCompanyAdministrationAccess(TenantRouteTests):
    routes = [
        RouteCheck("accounts:company_profile", Permission.MANAGE_COMPANY),
        RouteCheck("accounts:audit_log", Permission.MANAGE_COMPANY),
        RouteCheck("accounts:audit_log_export", Permission.MANAGE_COMPANY),
        RouteCheck("accounts:audit_log_export_xlsx", Permission.MANAGE_COMPANY),
    ]
