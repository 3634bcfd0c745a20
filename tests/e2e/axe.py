"""axe-core accessibility checks for Playwright pages.

axe-core comes from npm (``npm ci`` installs ``node_modules/axe-core``); no CDN. The script is injected
with ``page.evaluate``, which runs through the DevTools protocol and so is not blocked by the page's
Content-Security-Policy (``add_script_tag`` would be: the site allows no inline script).
"""

from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Impacts that fail a test. "minor" and "moderate" findings are not treated as failures here.
FAILING_IMPACTS = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    if not AXE_PATH.is_file():
        pytest.fail(f"axe-core is missing at {AXE_PATH}: run `npm ci` in {REPO_ROOT}", pytrace=False)
    return AXE_PATH.read_text(encoding="utf-8")


def axe_violations(page, *, context: str = "document", options: dict | None = None) -> list[dict]:
    """Run axe on the current page and return its violations (every impact)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
        if not page.evaluate("() => typeof window.axe === 'object'"):
            pytest.fail("axe-core was injected but window.axe is not defined", pytrace=False)
    options = {"resultTypes": ["violations"], **(options or {})}
    return page.evaluate(
        f"async (options) => (await axe.run({context}, options)).violations",
        options,
    )


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def assert_accessible(page, *, known: dict[str, str] | None = None, label: str = "") -> list[dict]:
    """Fail on any serious or critical axe violation on the current page.

    ``known`` maps rule ids to a note (a reported app bug that has not been fixed yet): those are left
    out of the failure and returned, so a known problem does not hide every other check.
    Returns the known violations that were found (empty when the page is clean).
    """
    known = known or {}
    violations = [v for v in axe_violations(page) if v.get("impact") in FAILING_IMPACTS]
    failing = [v for v in violations if v["id"] not in known]
    tolerated = [v for v in violations if v["id"] in known]
    where = f"{label} ({page.url})" if label else page.url
    if failing:
        pytest.fail(
            f"axe found {len(failing)} serious/critical accessibility violation(s) on {where}:\n"
            + format_violations(failing),
            pytrace=False,
        )
    return tolerated
