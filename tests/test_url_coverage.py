"""Every route is either public or proven to refuse other tenants and missing permissions.

A new URL pattern without a RouteCheck (tests/tenancy.py) or an entry below fails this test; so does,
in a full run, a declared RouteCheck whose checks did not run (a class pytest no longer collects, or
one filtered away); so does a list or an export not declared as one, and a view exempt from CSRF.
"""

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.generic.list import MultipleObjectMixin

import tests
from tests.conftest import EXECUTED_ROUTE_CHECKS, ROUTE_CHECK_DESELECTION, ROUTE_CHECK_RUN
from tests.tenancy import REGISTERED_ROUTE_CHECKS, checks_for

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
    "orders:approval_link": "the e-mailed approval link: only moves its token into the session and redirects "
                            "(tests/orders/test_links.py)",
    "tickets:disruptions": "the operator's current disruptions for anyone, no company data "
                           "(tests/tickets/test_disruptions.py)",
}

# Routes with their own dedicated tests, named here so a reader can find them.
SPECIALLY_TESTED = {
    "accounts:verify": "tests/accounts/test_sign_in.py",
    "accounts:send_sms": "tests/accounts/test_sign_in.py",
    "accounts:logout": "tests/accounts/test_sign_in.py",
    # A job is its creator's own: RouteCheck's members are other logins by design.
    "jobs:detail": "tests/jobs/test_jobs.py",
    "jobs:result": "tests/jobs/test_jobs.py",
    # The orders waiting for the login's own decision: RouteCheck's rows cannot name the login it signs in
    # as, so the list's content is proven in tests/orders/test_approvals.py (its RouteCheck covers access).
    "orders:awaiting": "tests/orders/test_approvals.py",
    # A shortcut is its login's own: RouteCheck's members are other logins by design, so these are proven
    # in tests/accounts/test_shortcuts.py (another login's shortcut, or another company's, is a 404).
    "accounts:shortcut_rename": "tests/accounts/test_shortcuts.py",
    "accounts:shortcut_move": "tests/accounts/test_shortcuts.py",
    "accounts:shortcut_delete": "tests/accounts/test_shortcuts.py",
    # The empty upload templates (headings, an example row, instructions): no company's rows in them;
    # their RouteChecks cover access, tests/groups/test_uploads.py their content.
    "groups:upload_template_structure": "tests/groups/test_uploads.py",
    "groups:upload_template_assignments": "tests/groups/test_uploads.py",
    # One upload's own result file: its RouteCheck proves another company's and an out-of-scope upload
    # are 404; its rows are the upload's own (tests/groups/test_uploads.py).
    "groups:upload_report": "tests/groups/test_uploads.py",
    # A draft case is its creator's own until sent: RouteCheck's members are other logins by design, so
    # its scope (other company, account scope, colleague, permission) is proven in tests/tickets/test_views.py.
    "tickets:case_edit": "tests/tickets/test_views.py",
    "tickets:case_submit": "tests/tickets/test_views.py",
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


# Views that take a POST without the CSRF token, on purpose (none so far: say why for each).
CSRF_EXEMPT = {}


def _callbacks(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _callbacks(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed {pattern.pattern}>"
            yield name, pattern


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


def _is_list_or_export(name, pattern) -> bool:
    """Pages that show many rows, or files of them: a list view, a paginated page, or an export."""
    view_class = getattr(pattern.callback, "view_class", None)
    if "export" in name or str(pattern.pattern).endswith((".csv", ".xlsx")):
        return True
    return view_class is not None and (
        issubclass(view_class, MultipleObjectMixin) or getattr(view_class, "paginate_by", None) is not None
    )


def test_lists_and_exports_are_declared_as_such():
    """A list or an export must prove its content (kind="list"/"export" with make_row), not just its status."""
    _import_all_test_modules()
    content_checked = {check.name for check in REGISTERED_ROUTE_CHECKS if check.kind in ("list", "export")}
    undeclared = [
        name for name, pattern in _callbacks(get_resolver().url_patterns)
        if not name.startswith(tuple(f"{namespace}:" for namespace in SPECIALLY_TESTED_NAMESPACES))
        and name not in PUBLIC_ROUTES and name not in SPECIALLY_TESTED and _is_list_or_export(name, pattern)
        and name not in content_checked
    ]
    assert not undeclared, (
        f"Lists/exports whose RouteCheck does not read their content: {undeclared}. Declare them with "
        'kind="list" (or "export") and make_row (tests/tenancy.py).'
    )


def test_no_view_is_exempt_from_csrf_unless_listed():
    exempt = {name for name, pattern in _callbacks(get_resolver().url_patterns)
              if getattr(pattern.callback, "csrf_exempt", False)}
    listed = set(CSRF_EXEMPT)
    assert exempt <= listed, f"Views exempt from CSRF without a listed reason: {sorted(exempt - listed)}"
    assert listed <= exempt, f"Listed as CSRF-exempt but no longer exempt: {sorted(listed - exempt)}"


def test_deselected_route_checks_are_exactly_the_listed_ones():
    """tests/route_checks_deselected.py is the whole truth about checks that do not run (for the classes
    collected in this run): nothing deselected without a reason, no reason for a check that runs."""
    assert not ROUTE_CHECK_DESELECTION["unexpected"], (
        f"deselected without a listed reason: {ROUTE_CHECK_DESELECTION['unexpected']}"
    )
    assert not ROUTE_CHECK_DESELECTION["stale"], (
        "listed as deselected in tests/route_checks_deselected.py, but the check runs: "
        f"{ROUTE_CHECK_DESELECTION['stale']}"
    )


@pytest.mark.after_route_checks
def test_every_declared_route_check_ran():
    """Covered means the checks ran in this run, not merely that a RouteCheck was written.

    Runs last (tests/conftest.py moves it there) and only in a full run, i.e. `pytest` or `make test`
    on the whole project without -k/-m/--deselect/--lf/xdist or paths other than tests/ (ignoring
    tests/e2e is fine); a subset run skips it, saying why.
    """
    if not ROUTE_CHECK_RUN["full"]:
        pytest.skip(f"not the full suite ({ROUTE_CHECK_RUN['why']}): the route checks are counted only then")
    _import_all_test_modules()
    expected = {(route.key, check) for route in REGISTERED_ROUTE_CHECKS for check in checks_for(route)}
    missing = sorted(expected - EXECUTED_ROUTE_CHECKS)
    assert len(expected) > 100
    by_class = {}
    for key, check in missing:
        by_class.setdefault(key.split("[", 1)[0], []).append(f"{key.split('] ', 1)[1]} {check}")
    assert not missing, (
        f"{len(missing)} declared route checks did not run (class not collected? filtered away?):\n"
        + "\n".join(f"  {owner}: {len(checks)} checks, e.g. {checks[0]}" for owner, checks in sorted(by_class.items()))
    )
