"""Browser tests: headless Chromium through Playwright against pytest-django's live server.

Chromium is Debian's (/usr/bin/chromium); `playwright install` is never needed. When it is missing the
tests fail (they do not skip): a suite that silently skips its browser tests proves nothing.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls made by
# the test itself (reading the SMS store, checking the login's language) as "async-unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
DEFAULT_TIMEOUT_MS = 10_000

# Reports Content-Security-Policy violations to Python. Init scripts and bindings are installed through
# the DevTools protocol, so the page's CSP (no inline script) does not block them.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__e2eCspViolation({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    page: document.location.href,
  });
}, true);
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or point E2E_CHROMIUM at a Chromium binary). The browser tests do not skip.",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class BrowserProblems:
    """Console errors, uncaught exceptions and CSP violations seen by the pages of one test."""

    items: list[str] = field(default_factory=list)

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"uncaught exception on {page.url}: {error}"))

    def _console(self, message):
        if message.type == "error":
            location = message.location or {}
            where = f"{location.get('url', '?')}:{location.get('lineNumber', '?')}"
            self.items.append(f"console error: {message.text} (at {where})")

    def csp_violation(self, _source, report):
        self.items.append(
            "CSP violation: {directive} blocked {blocked!r} on {page} "
            "(source {source}:{line}, sample {sample!r})".format(**report)
        )

    def allow(self, fragment: str):
        """Drop problems the test provoked on purpose (e.g. a form answered 400 for bad input)."""
        expected = [item for item in self.items if fragment in item]
        assert expected, f"expected a browser message containing {fragment!r}"
        self.items = [item for item in self.items if fragment not in item]

    def assert_none(self):
        if self.items:
            problems, self.items = self.items, []
            pytest.fail("the browser reported problems:\n- " + "\n- ".join(problems), pytrace=False)


@pytest.fixture
def browser_problems():
    return BrowserProblems()


@pytest.fixture
def new_page(browser, browser_problems, live_server):
    """Open a page in a fresh browser context (own cookies); e.g. ``new_page(**PHONE)``."""
    contexts = []

    def open_page(**options):
        options = {**DESKTOP, "locale": "en-GB", "base_url": live_server.url, **options}
        context = browser.new_context(**options)
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.expose_binding("__e2eCspViolation", browser_problems.csp_violation)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        browser_problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    # A problem not yet asserted by the test itself still fails it (reported at teardown).
    browser_problems.assert_none()


@pytest.fixture
def page(new_page):
    """A desktop-sized page (1280x800) in a fresh context."""
    return new_page()


@pytest.fixture
def phone_page(new_page):
    """A phone-sized page (390x844, mobile emulation with touch) in a fresh context."""
    return new_page(**PHONE)
