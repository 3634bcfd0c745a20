from accounts.permissions import Permission
from tests.factories import SubscriptionFactory
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def subscription_in(company, account):
    return {"pk": SubscriptionFactory(company=company, account=account).pk}


def subscription_row(company, account):
    """A subscription the list shows by its employee's name."""
    return SubscriptionFactory(company=company, account=account, employee_name=marker("Employee")).employee_name


class TestSubscriptionAccess(TenantRouteTests):
    routes = [
        RouteCheck("subscriptions:list", Permission.VIEW_SUBSCRIPTIONS, kind="list", make_row=subscription_row),
        RouteCheck("subscriptions:detail", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
    ]
