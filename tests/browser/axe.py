"""Accessibility checks with axe-core (from node_modules) inside real Chromium pages.

``assert_no_serious_axe_violations(page)`` runs axe on the page as it is now and fails
with a readable list when any violation is rated serious or critical.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def inject_axe(page) -> None:
    """Load axe-core into the page once.

    ``page.add_script_tag(path=...)`` would insert an inline script, which our
    Content-Security-Policy refuses (and logs as a console error, failing tests that check
    the console). Evaluating the source through the DevTools protocol is not governed by
    the page's CSP, so the page keeps its real policy while axe runs.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8"))


def serious_axe_violations(page) -> list[dict]:
    """axe-core violations rated serious or critical on the current page."""
    inject_axe(page)
    result = page.evaluate("() => window.axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def format_violations(violations: list[dict]) -> str:
    """One line per violation with the first offending elements."""
    lines = []
    for violation in violations:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} — {targets}")
    return "\n".join(lines)


def assert_no_serious_axe_violations(page) -> None:
    """Fail when axe-core finds a serious or critical accessibility violation."""
    assert AXE_PATH.is_file(), f"axe-core is missing at {AXE_PATH} (run npm ci)"
    violations = serious_axe_violations(page)
    assert not violations, f"accessibility violations on {page.url}:\n" + format_violations(
        violations
    )
