"""Layout checks for browser journeys: nothing scrolls sideways, every control can be reached.

Use them on every page a journey visits at phone width (``PHONE_375``)::

    assert_no_horizontal_overflow(page, "profile")
    assert_reachable(page.get_by_role("link", name="Users"), "Users in the main menu")
    assert_table_fits(page, "audit log")
"""

import os
import re
from pathlib import Path

from playwright.sync_api import Locator, Page

from tests.e2e.conftest import PHONE

# The narrowest phone the portal is built for.
PHONE_375 = {**PHONE, "viewport": {"width": 375, "height": 740}}

# The outermost elements that stick out to the right of the viewport, leaving out those clipped by a
# scrolling ancestor that itself fits (a deliberately scrolling region).
OVERFLOW_JS = """
(limit) => {
  const clipped = (element) => {
    for (let a = element.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible" && a.getBoundingClientRect().right <= limit + 0.5) return true;
    }
    return false;
  };
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map((c) => "." + c).join("")
    + " (right edge " + Math.round(e.getBoundingClientRect().right) + "px)";
  const wide = [...document.body.querySelectorAll("*")].filter(
    (e) => e.getBoundingClientRect().right > limit + 0.5 && !clipped(e));
  // Text too long for its box (an e-mail address that does not wrap) overflows without widening it.
  const spilling = [...document.body.querySelectorAll("*")].filter((e) => e.children.length === 0
    && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible" && !clipped(e));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    elements: wide.filter((e) => !wide.includes(e.parentElement)).map(describe)
      .concat(spilling.map((e) => "the text of " + describe(e))),
  };
}
"""

# Where the element is, and whether a click at its centre would land on it (not on something covering it).
REACHABLE_JS = """
(element) => {
  const box = element.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {
    left: box.left, right: box.right, top: box.top, bottom: box.bottom, width: box.width, height: box.height,
    viewportWidth: document.documentElement.clientWidth, viewportHeight: window.innerHeight,
    onTop: !!hit && (hit === element || element.contains(hit)),
    covering: hit ? hit.tagName.toLowerCase() + [...hit.classList].map((c) => "." + c).join("") : null,
  };
}
"""


def _limit(page: Page) -> int:
    # With mobile emulation Chromium widens the layout viewport (window.innerWidth) to fit content that
    # is too wide, hiding the overflow: compare with the emulated screen's own width too.
    return min(page.viewport_size["width"], page.evaluate("() => window.innerWidth"))


def assert_no_horizontal_overflow(page: Page, label: str):
    """The page does not scroll sideways at this viewport width (document scrollWidth <= width)."""
    limit = _limit(page)
    found = page.evaluate(OVERFLOW_JS, limit)
    assert found["scrollWidth"] <= limit, (
        f"{label}: the page scrolls sideways at {page.viewport_size['width']}px "
        f"(document scrollWidth {found['scrollWidth']}px, innerWidth {found['innerWidth']}px); "
        f"too wide: {', '.join(found['elements']) or '?'}"
    )


def assert_reachable(locator: Locator, label: str):
    """The control is visible, wholly inside the viewport once scrolled to, and a click on it lands on it."""
    locator.scroll_into_view_if_needed()
    found = locator.evaluate(REACHABLE_JS)
    assert found["width"] > 0 and found["height"] > 0, f"{label}: not visible"
    inside = (
        found["left"] >= -0.5 and found["right"] <= found["viewportWidth"] + 0.5
        and found["top"] >= -0.5 and found["bottom"] <= found["viewportHeight"] + 0.5
    )
    assert inside, (
        f"{label}: outside the {found['viewportWidth']}x{found['viewportHeight']} viewport "
        f"(left {found['left']:.0f}, right {found['right']:.0f}, top {found['top']:.0f}, bottom {found['bottom']:.0f})"
    )
    assert found["onTop"], f"{label}: covered by {found['covering']}, a click would not reach it"


def assert_table_fits(page: Page, label: str, *, table: str = "main table"):
    """Every cell of the table is inside the viewport's width: no column is lost off-screen."""
    limit = _limit(page)
    cells = page.locator(f"{table} td")
    assert cells.count(), f"{label}: the table has no cells"
    outside = cells.evaluate_all(
        "(cells, limit) => cells.filter((c) => { const b = c.getBoundingClientRect();"
        " return b.width > 0 && (b.left < -0.5 || b.right > limit + 0.5); })"
        ".map((c) => (c.dataset.label || '?') + ': ' + c.textContent.trim().slice(0, 40))",
        limit,
    )
    assert not outside, f"{label}: table cells outside the {limit}px viewport: {outside}"


def screenshot(page: Page, name: str):
    """Saves a full-page screenshot when E2E_SCREENSHOTS names a folder (for looking at the layout)."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "-", name)
        page.screenshot(path=str(Path(folder) / f"{safe}.png"), full_page=True)
