"""Accessibility and layout checks for browser tests: axe-core, from axe-playwright-python."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
SERIOUS = ("serious", "critical")


def violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as shown, one line each."""
    results = _AXE.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [" ".join(map(str, n.get("target", []))) for n in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def assert_accessible(page: Any) -> None:
    """No serious or critical axe-core violation, and nothing wider than the viewport."""
    assert violations(page) == [], f"{page.url}: {violations(page)}"
    assert_fits(page)


def assert_fits(page: Any) -> None:
    """The page is no wider than its viewport (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width} px wide in a {viewport} px window"
