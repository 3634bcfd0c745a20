"""The cross-tenant and permission checks every customer-side route must pass.

An app's test module declares its routes::

    class TestSubscriptionAccess(TenantRouteTests):
        routes = [
            RouteCheck("subscriptions:list", Permission.VIEW_SUBSCRIPTIONS),
            RouteCheck("subscriptions:detail", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
        ]

and each route is then proven to: send an anonymous visitor to sign in; send a password-only session
to the second-factor page; refuse a member without the permission (403 or 404); answer 404 for an
object of another company and for one outside a restricted account scope; and work for a member
with the permission (so the refusals above are not an accident). tests/test_url_coverage.py fails
for any route that is neither declared here nor listed as public.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.permissions import ALL_PERMISSIONS
from tests.conftest import make_member, password_only_client, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, UserFactory


@dataclass
class RouteCheck:
    name: str
    # The permission the route needs: one, a tuple meaning "any of these", or None for any member.
    permission: str | tuple | None
    method: str = "get"
    # Builds a row of the given company under the given account and returns the URL kwargs, e.g.
    # {"pk": subscription.pk}. None for routes without an object in the URL.
    make_object: Callable | None = None
    # Whether the object hangs off a billing account (then a restricted account scope must hide it).
    account_scoped: bool = True
    # POST data for the route, built from (company, account).
    make_data: Callable | None = None
    ok_status: tuple = (200,)
    # False for pages of the login itself (second factors): no company, so no cross-tenant checks.
    tenant: bool = True

    def required(self) -> set[str]:
        if self.permission is None:
            return set()
        return {self.permission} if isinstance(self.permission, str) else set(self.permission)


REGISTERED_ROUTE_CHECKS: list[RouteCheck] = []


def applies_to(predicate):
    """Run a check only for the routes it makes sense for (conftest.pytest_generate_tests reads this)."""

    def decorate(test):
        test.applies_to = predicate
        return test

    return decorate


class TenantRouteTests:
    routes: list[RouteCheck] = []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        REGISTERED_ROUTE_CHECKS.extend(cls.routes)

    # Helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _request(client, route, kwargs, company, account):
        url = reverse(route.name, kwargs=kwargs or None)
        if route.method == "get":
            return client.get(url)
        data = route.make_data(company, account) if route.make_data else {}
        return getattr(client, route.method)(url, data)

    @staticmethod
    def _setup(route, company):
        account = BillingAccountFactory(company=company)
        kwargs = route.make_object(company, account) if route.make_object else {}
        return account, kwargs

    # The checks --------------------------------------------------------------------------------

    @pytest.mark.django_db
    def test_anonymous_is_sent_to_sign_in(self, route, client):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        response = self._request(client, route, kwargs, company, account)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    @pytest.mark.django_db
    def test_password_only_is_sent_to_second_factor(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company).user
        response = self._request(password_only_client(user), route, kwargs, company, account)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:verify"))

    @applies_to(lambda route: route.permission is not None and route.tenant)
    @pytest.mark.django_db
    def test_member_without_permission_is_refused(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company, permissions=ALL_PERMISSIONS - route.required()).user
        response = self._request(verified_client(user), route, kwargs, company, account)
        assert response.status_code in (403, 404)

    @applies_to(lambda route: route.make_object is not None)
    @pytest.mark.django_db
    def test_object_of_another_company_is_404(self, route):
        company, other = CompanyFactory(), CompanyFactory()
        other_account, other_kwargs = self._setup(route, other)
        user = make_member(company).user
        response = self._request(verified_client(user), route, other_kwargs, other, other_account)
        assert response.status_code == 404

    @applies_to(lambda route: route.make_object is not None and route.account_scoped)
    @pytest.mark.django_db
    def test_object_outside_account_scope_is_404(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        allowed = BillingAccountFactory(company=company)
        user = make_member(company, accounts=[allowed]).user
        response = self._request(verified_client(user), route, kwargs, company, account)
        assert response.status_code == 404

    @applies_to(lambda route: route.tenant)
    @pytest.mark.django_db
    def test_login_without_company_is_refused(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = UserFactory()
        response = self._request(verified_client(user), route, kwargs, company, account)
        assert response.status_code in (403, 404)

    @pytest.mark.django_db
    def test_member_with_permission_gets_the_page(self, route):
        company = CompanyFactory()
        account, kwargs = self._setup(route, company)
        user = make_member(company, permissions=route.required()).user
        response = self._request(verified_client(user), route, kwargs, company, account)
        assert response.status_code in route.ok_status
