"""Every role preset × every permission-guarded customer view: allowed exactly when the preset holds
the view's permission.

The views are found by walking the URLconf (view classes built on PortalViewMixin that declare a
permission); the URL arguments and POST data come from the RouteChecks the apps' access tests
register (tests/tenancy.py), so a new guarded view joins the matrix by itself.
"""

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from accounts.permissions import ROLE_PRESETS, Permission, Role
from accounts.views_base import PortalViewMixin
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory
from tests.tenancy import REGISTERED_ROUTE_CHECKS
from tests.test_url_coverage import SPECIALLY_TESTED

ROLES = [Role.SUPERUSER, Role.ADMINISTRATOR, Role.ORDERER, Role.APPROVER, Role.READ_ONLY]


def _import_all_test_modules():
    """As tests/test_url_coverage.py does: every module's RouteChecks register when imported."""
    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if module.name.rsplit(".", 1)[-1].startswith("test_") and "e2e" not in module.name:
            importlib.import_module(module.name)


def _guarded_views(patterns=None, namespace=""):
    """(route name, view class) for every URL whose view declares a permission."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _guarded_views(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and issubclass(view_class, PortalViewMixin):
                yield f"{namespace}{pattern.name}", view_class


def _permission_for(view_class, method: str):
    """What the view wants for this HTTP method: a permission, a tuple ("any of"), or None."""
    permission = view_class.required_permission
    if isinstance(permission, dict):
        return permission.get(method.upper(), "refused")
    return permission


def _wanted(permission) -> set[str]:
    if permission is None:
        return set()
    return {permission} if isinstance(permission, (str, Permission)) else set(permission)


def _cases():
    _import_all_test_modules()
    checks = {}
    for check in REGISTERED_ROUTE_CHECKS:
        checks.setdefault(check.name, []).append(check)
    cases, uncovered = [], []
    for name, view_class in _guarded_views():
        for check in checks.get(name, []):
            permission = _permission_for(view_class, check.method)
            if permission is None:
                continue  # any member of the company: nothing for the matrix to tell apart
            for role in ROLES:
                cases.append(pytest.param(role, check, view_class, id=f"{role}-{name}-{check.method}"))
        # A route with tests of its own (tests/test_url_coverage.py names them) proves its permission there.
        if name not in checks and name not in SPECIALLY_TESTED and view_class.required_permission is not None:
            uncovered.append(name)
    return cases, uncovered


CASES, UNCOVERED = _cases()


def test_every_guarded_view_is_in_the_matrix():
    assert not UNCOVERED, f"permission-guarded views without a RouteCheck to build their URL: {UNCOVERED}"
    assert len({case.values[1].name for case in CASES}) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "check", "view_class"), CASES)
def test_role_preset_reaches_exactly_the_views_its_permissions_allow(role, check, view_class):
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    kwargs = check.make_object(company, account) if check.make_object else {}
    user = make_member(company, role).user
    url = reverse(check.name, kwargs=kwargs or None)
    data = check.make_data(company, account) if check.make_data else {}
    client = verified_client(user)
    response = client.get(url) if check.method == "get" else getattr(client, check.method)(url, data)

    permission = _permission_for(view_class, check.method)
    allowed = permission != "refused" and bool(_wanted(permission) & ROLE_PRESETS[role])
    if allowed:
        assert 200 <= response.status_code < 400, (role, url, response.status_code)
        location = response.get("Location", "")
        assert not location.startswith((reverse("accounts:login"), reverse("accounts:verify"))), location
    else:
        assert response.status_code in (403, 404), (role, url, response.status_code)
