from accounts.permissions import Permission
from tests.factories import SubscriptionFactory
from tests.tenancy import RouteCheck, TenantRouteTests


def subscription_in(company, account):
    return {"pk": SubscriptionFactory(company=company, account=account).pk}


class TestSubscriptionAccess(TenantRouteTests):
    routes = [
        RouteCheck("subscriptions:list", Permission.VIEW_SUBSCRIPTIONS),
        RouteCheck("subscriptions:detail", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
    ]
