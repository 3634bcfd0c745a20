import os

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.permissions import Role
from accounts.services import sms_device_for
from tests.factories import BillingAccountFactory, CompanyFactory, MembershipFactory, UserFactory

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Axes lock-outs and sessions live in Redis: every test starts clean."""
    from django.core.cache import cache

    cache.clear()
    yield


def english_client() -> Client:
    """Tests read English messages; the site's default language is Danish."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def client():
    return english_client()


@pytest.fixture
def company(db):
    return CompanyFactory(name="Nordlys A/S")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Konkurrent ApS")


def make_member(company, role=Role.SUPERUSER, permissions=None, accounts=None, **user_fields):
    """A login with a membership of ``company``; ``accounts`` restricts its account scope."""
    user = UserFactory(**user_fields)
    fields = {"user": user, "company": company, "role": role, "all_accounts": accounts is None}
    if permissions is not None:
        fields.update(permissions=sorted(permissions), role=Role.CUSTOM)
    membership = MembershipFactory(**fields)
    if accounts is not None:
        membership.accounts.set(accounts)
    return membership


@pytest.fixture
def member_factory(db):
    return make_member


@pytest.fixture
def superuser(company):
    return make_member(company, Role.SUPERUSER).user


@pytest.fixture
def read_only_user(company):
    return make_member(company, Role.READ_ONLY).user


def verified_client(user, client=None) -> Client:
    """A client signed in with password *and* second factor, as after the real sign-in."""
    client = client or english_client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = sms_device_for(user).persistent_id
    session.save()
    return client


def stepped_up(client: Client) -> Client:
    """As right after "confirm it is you": the step-up that sensitive changes need (PortalViewMixin.step_up)."""
    import time

    from accounts.views.profile import REAUTH_SESSION_KEY

    session = client.session
    session[REAUTH_SESSION_KEY] = time.time()
    session.save()
    return client


def password_only_client(user, client=None) -> Client:
    """Signed in with the password only: the second factor is still missing."""
    client = client or english_client()
    client.force_login(user)
    return client


@pytest.fixture
def account(company):
    return BillingAccountFactory(company=company)


def pytest_generate_tests(metafunc):
    """Classes built on tests.tenancy.TenantRouteTests get one test per declared route."""
    routes = getattr(metafunc.cls, "routes", None)
    if routes is not None and "route" in metafunc.fixturenames:
        applies = getattr(metafunc.function, "applies_to", lambda route: True)
        routes = [route for route in routes if applies(route)]
        metafunc.parametrize("route", routes, ids=[route.name for route in routes])


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (thread) consuming from the test Redis, for tests that follow a task
    from the outbox to its delivery. Needs committed rows, hence transactional_db."""
    from celery.contrib.testing.worker import start_worker

    from selfcare.celery import app

    app.control.purge()
    # Both queues: the default one and the background jobs' (CELERY_TASK_ROUTES).
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10,
                      queues=["celery", "jobs"]) as worker:
        yield worker


def wait_for(predicate, timeout=15.0, interval=0.05):
    """Poll until predicate() is truthy (work done by another thread or process)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class _SMTPInbox:
    """What a real SMTP server (aiosmtpd, started by the test) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [message for message in self.messages if address in message["To"]]

    @staticmethod
    def body(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free loopback port; Django's SMTP backend is pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _SMTPInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


# Route checks: what ran, what was deselected, and whether this run is the full suite ---------------------

# (RouteCheck.key, check name) of every route check that ran in this process (tests/test_url_coverage.py).
EXECUTED_ROUTE_CHECKS: set[tuple[str, str]] = set()
# Whether this run is the whole suite, and if not, why not (set at collection).
ROUTE_CHECK_RUN = {"full": False, "why": "not collected yet"}


def pytest_configure(config):
    config.addinivalue_line("markers", "after_route_checks: runs after every other test (reads what ran)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call":
        from tests.tenancy import RouteCheck

        route = getattr(getattr(item, "callspec", None), "params", {}).get("route")
        if isinstance(route, RouteCheck) and route.declared_in is not None:
            EXECUTED_ROUTE_CHECKS.add((route.key, item.originalname))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """An empty parameter set nobody listed is not skipped: it fails, as the test it silenced."""
    if getattr(item, "unlisted_empty_parameter_set", False):
        pytest.fail(
            f"{item.nodeid.split('[', 1)[0]} applies to no parameter at all (a typo in applies_to? a class "
            "without such routes?). If that is right, list it with the reason in tests/route_checks_deselected.py:\n"
            f'    "{item.nodeid.split("[", 1)[0]}": "<why>",',
            pytrace=False,
        )


def _full_run(config) -> tuple[bool, str]:
    """The full suite: no -k / -m / --deselect / --lf on the command line, no path but the project or
    tests/, nothing ignored but the browser tests, one process. Anything else is a subset, and the
    ran-checks test skips, saying why."""
    import shlex
    from pathlib import Path

    option = config.option
    # A filter written into the configuration (addopts, PYTEST_ADDOPTS) is part of every "full" run:
    # the checks it filters away must fail the coverage test, not skip it.
    configured = shlex.split(" ".join(config.getini("addopts"))) + shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))

    def asked(*flags):
        return not any(arg == flag or arg.startswith(flag + ("=" if flag.startswith("--") else ""))
                       for arg in configured for flag in flags)

    if getattr(option, "keyword", "") and asked("-k"):
        return False, "-k selects a subset"
    if getattr(option, "markexpr", "") and asked("-m"):
        return False, "-m selects a subset"
    if getattr(option, "deselect", None) and asked("--deselect"):
        return False, "--deselect"
    if getattr(option, "lf", False):
        return False, "--last-failed"
    if getattr(option, "numprocesses", None) or os.environ.get("PYTEST_XDIST_WORKER"):
        return False, "pytest-xdist: each worker sees only its share of the checks"
    root = Path(config.rootpath).resolve()
    whole = {root, root / "tests"}
    for arg in config.args:
        if Path(arg.split("::")[0]).resolve() not in whole or "::" in arg:
            return False, f"only {arg} was asked for"
    browser = root / "tests" / "e2e"
    for ignored in (getattr(option, "ignore", None) or []) + (getattr(option, "ignore_glob", None) or []):
        if Path(ignored).resolve() != browser:
            return False, f"--ignore {ignored}"
    return True, ""


# What collection found: checks deselected without a listed reason, and listed ones that now run.
ROUTE_CHECK_DESELECTION = {"unexpected": [], "stale": []}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Route checks that apply to none of a class's routes are deselected, but only those listed in
    tests/route_checks_deselected.py (with the reason). Any other empty parameter set is kept and fails
    as that test (see pytest_runtest_setup); a listed entry whose check now runs fails
    tests/test_url_coverage.py. Tests marked after_route_checks go last."""
    from tests.route_checks_deselected import DESELECTED_ROUTE_CHECKS

    def empty(item):
        return any("got empty parameter set" in str(mark.kwargs.get("reason", "")) or
                   "got empty parameter set" in str(mark.args) for mark in item.iter_markers("skip"))

    def check_id(item):
        return item.nodeid.split("[", 1)[0]

    empties = [item for item in items if empty(item)]
    listed = [item for item in empties if check_id(item) in DESELECTED_ROUTE_CHECKS]
    for item in empties:
        if item not in listed:
            item.unlisted_empty_parameter_set = True
    empty_ids = {check_id(item) for item in empties}
    collected_ids = {check_id(item) for item in items}
    ROUTE_CHECK_DESELECTION["unexpected"] = sorted(empty_ids - set(DESELECTED_ROUTE_CHECKS))
    ROUTE_CHECK_DESELECTION["stale"] = sorted(
        nodeid for nodeid in DESELECTED_ROUTE_CHECKS if nodeid in collected_ids and nodeid not in empty_ids
    )
    if listed:
        config.hook.pytest_deselected(items=listed)
        items[:] = [item for item in items if item not in listed]
    last = [item for item in items if item.get_closest_marker("after_route_checks")]
    items[:] = [item for item in items if item not in last] + last
    ROUTE_CHECK_RUN["full"], ROUTE_CHECK_RUN["why"] = _full_run(config)
