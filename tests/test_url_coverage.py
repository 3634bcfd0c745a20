"""Every route is either public or proven to refuse other tenants and missing permissions.

A new URL pattern without a RouteCheck (tests/tenancy.py) or an entry below fails this test.
"""

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver, get_resolver

import tests
from tests.tenancy import REGISTERED_ROUTE_CHECKS

# Reachable without signing in, on purpose.
PUBLIC_ROUTES = {
    "home": "redirects to the overview (which then asks to sign in)",
    "favicon": "redirects to the static icon",
    "accounts:login": "the sign-in page",
    "accounts:password_reset": "asking for a reset link",
    "accounts:password_reset_done": "static confirmation",
    "accounts:password_reset_confirm": "the e-mailed, signed, single-use link",
    "accounts:password_reset_complete": "static confirmation",
    "accounts:language": "the cogwheel works before sign-in too",
    "dev_inbox": "404 unless DEBUG (tests/outbox/test_dev_inbox.py)",
    "accounts:apply": "applying for access needs no login (tests/accounts/test_applications.py)",
    "accounts:apply_received": "thank-you page; shows only what this session just submitted",
    "accounts:activate": "letter username + activation code (tests/accounts/test_activation.py)",
    "accounts:activate_password": "activation step; needs the session's valid activation",
    "accounts:activate_second_factor": "activation step; needs the session's valid activation and password",
    "accounts:activate_send_sms": "POST only; SMS to the activating login's own mobile",
    "accounts:activate_invitation": "the e-mailed, single-use, expiring invitation link",
}

# Routes with their own dedicated tests, named here so a reader can find them.
SPECIALLY_TESTED = {
    "accounts:verify": "tests/accounts/test_sign_in.py",
    "accounts:send_sms": "tests/accounts/test_sign_in.py",
    "accounts:logout": "tests/accounts/test_sign_in.py",
    # A job is its creator's own: RouteCheck's members are other logins by design.
    "jobs:detail": "tests/jobs/test_jobs.py",
    "jobs:result": "tests/jobs/test_jobs.py",
}
# Whole namespaces with their own tests: the back office is staff-only behind the second factor.
SPECIALLY_TESTED_NAMESPACES = {"admin": "tests/accounts/test_back_office.py"}


def _route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed {pattern.pattern}>"


def _import_all_test_modules():
    for module in pkgutil.walk_packages(tests.__path__, "tests."):
        if module.name.rsplit(".", 1)[-1].startswith("test_") and "e2e" not in module.name:
            importlib.import_module(module.name)


def test_every_route_is_public_or_covered():
    _import_all_test_modules()
    covered = {check.name for check in REGISTERED_ROUTE_CHECKS}
    uncovered = []
    for name in _route_names(get_resolver().url_patterns):
        namespace = name.split(":", 1)[0] if ":" in name else ""
        if name in PUBLIC_ROUTES or name in SPECIALLY_TESTED or name in covered:
            continue
        if namespace in SPECIALLY_TESTED_NAMESPACES:
            continue
        uncovered.append(name)
    assert not uncovered, f"Routes without cross-tenant/permission coverage: {uncovered}"


def test_declared_routes_exist():
    """A RouteCheck or list entry for a route that no longer exists is a stale promise."""
    _import_all_test_modules()
    names = set(_route_names(get_resolver().url_patterns))
    declared = {check.name for check in REGISTERED_ROUTE_CHECKS} | set(PUBLIC_ROUTES) | set(SPECIALLY_TESTED)
    assert declared <= names, declared - names
