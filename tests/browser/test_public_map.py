"""The public map in real Chromium, on a phone and a laptop: clusters and markers from
the demo city, filters, the list following the map, a tap opening a request, the last
copy offline, and nothing serious for axe."""

from __future__ import annotations

import re

import pytest

from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.worker import service_worker_ready
from webapp.plumbing.extensions import db
from webapp.seed.answers_es import TOPICS_ES

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_city(live_app):
    """The Chattanooga demo city with a couple of hundred requests."""
    from webapp.seed.demo import seed_demo

    with live_app.app_context():
        seed_demo(200)
        db.session.remove()


def _wait_for_map(page, source: str = "network") -> None:
    """Wait until the map has drawn its latest answer (from the network or the last copy)."""
    page.wait_for_function(
        "s => { const d = document.getElementById('public-map').dataset;"
        " return d.source === s && !d.loading; }",
        arg=source,
    )


def _in_view(page) -> int:
    return int(page.get_attribute("#public-map", "data-requests-in-view"))


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_public_map_clusters_filters_list_and_opens_a_request(
    browser, live_server, demo_city, artifacts_dir, viewport
):
    context = browser.new_context(
        viewport=viewport, base_url=live_server.base_url, service_workers="block",
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    folder = artifacts_dir / "public-map"
    folder.mkdir(parents=True, exist_ok=True)

    def screenshot(name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/map")
        _wait_for_map(page)
        clusters = page.locator(".map-cluster-icon")
        assert clusters.count() > 0
        everything = _in_view(page)
        assert everything > 0
        assert page.locator("#map-list li").count() == min(everything, 50)
        assert_no_serious_axe_violations(page)
        screenshot(f"clusters-{viewport['width']}")

        page.click("#map-filter-sheet summary")  # the filters live in a sheet
        page.select_option("#map-status-filter", "closed")
        _wait_for_map(page)
        assert _in_view(page) < everything
        assert "status=closed" in page.url
        closed_items = page.locator("#map-list .map-list-meta").all_inner_texts()
        assert closed_items and not any(t.startswith("Received") for t in closed_items)
        page.select_option("#map-status-filter", "")
        _wait_for_map(page)
        assert _in_view(page) == everything
        page.click("#map-sheet-done")
        assert not page.is_visible("#map-status-filter")

        # Zooming in on a cluster narrows both the map and the list.
        before = page.locator("#map-list li").count()
        biggest = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('.map-cluster')]"
            ".map(e => Number(e.textContent.replace(/\\D/g, ''))))"
        )
        page.locator(".map-cluster", has_text=str(biggest)).first.click()
        page.wait_for_timeout(400)
        _wait_for_map(page)
        assert _in_view(page) < everything
        assert page.locator("#map-list li").count() <= before

        # Up close, lone requests are markers; choosing one with the keyboard opens it.
        for _ in range(8):
            if page.locator("img.leaflet-marker-icon").count() and _in_view(page) <= 50:
                break
            page.locator(".map-cluster").first.click()
            page.wait_for_timeout(400)
            _wait_for_map(page)
        marker = page.locator("img.leaflet-marker-icon").first
        request_id = re.search(r"\d{3}-\d{6}", marker.get_attribute("alt")).group(0)
        assert page.locator(f"#map-list li[data-request-id='{request_id}']").count() == 1
        screenshot(f"markers-{viewport['width']}")
        marker.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/requests/{request_id}")
        assert errors == []
    finally:
        context.close()


def test_public_map_offline_shows_the_last_copy_on_a_grey_map(
    browser_context, page, live_server, demo_city, screenshot
):
    page.goto("/map")
    service_worker_ready(page)
    _wait_for_map(page)
    shown = _in_view(page)
    listed = page.locator("#map-list li").count()
    page.reload()
    _wait_for_map(page)
    assert page.evaluate("!!navigator.serviceWorker.controller")

    browser_context.set_offline(True)
    page.reload()
    _wait_for_map(page, "last-copy")
    assert _in_view(page) == shown
    assert page.locator("#map-list li").count() == listed
    assert "offline" in page.inner_text("#map-notice")
    assert "map-offline" in page.get_attribute("#public-map", "class")
    screenshot("offline-last-copy")
    browser_context.set_offline(False)


def test_stats_page_fits_a_phone_with_charts_and_tables(browser, live_server, demo_city,
                                                          artifacts_dir):
    context = browser.new_context(viewport=PHONE, base_url=live_server.base_url,
                                  service_workers="block", locale="en-US")
    page = context.new_page()
    try:
        page.goto("/map")
        page.click("text=How the city is doing")
        page.wait_for_url("**/stats")
        assert page.locator("svg.chart[role=img]").count() == 3
        assert page.locator("#chart-sla-desc").count() == 1
        assert page.locator("#stats-table tbody tr").count() >= 5
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_no_serious_axe_violations(page)
        folder = artifacts_dir / "public-map"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "stats-390.png"), full_page=True)
        for language in ("en", "es"):
            if language == "es":
                page.click(".language-switch button[lang=es]")
                page.wait_for_function("document.documentElement.lang === 'es'")
            # Each service's row is a card on the phone, every word whole; it is still
            # the one table (screen readers read it as before).
            layout = page.evaluate(STATS_LAYOUT)
            assert layout["cards"] == layout["rows"] >= 5
            assert layout["broken"] == [], f"{language}: words broken across lines"
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(folder / "stats-390-es.png"), full_page=True)

        # Help topics are content: in Spanish, every topic link is Spanish.
        page.goto("/help")
        topics = page.locator(".help-topics a").all_inner_texts()
        assert len(topics) == len(TOPICS_ES)
        assert sorted(t.lower() for t in topics) == sorted(TOPICS_ES.values())
        assert_no_serious_axe_violations(page)
    finally:
        context.close()


def test_stats_keeps_its_table_on_a_wide_screen(browser, live_server, demo_city):
    context = browser.new_context(viewport=LAPTOP, base_url=live_server.base_url,
                                  service_workers="block", locale="en-US")
    page = context.new_page()
    try:
        page.goto("/stats")
        layout = page.evaluate(STATS_LAYOUT)
        assert layout["cards"] == 0 and layout["rows"] >= 5
        page.goto("/help")
        topics = page.locator(".help-topics a").all_inner_texts()
        assert sorted(t.lower() for t in topics) == sorted(TOPICS_ES)
    finally:
        context.close()


# Words of the services section that a line break cuts in two (one word, two boxes), and
# how many of its rows are drawn as cards (blocks) rather than table rows.
STATS_LAYOUT = """() => {
  const section = document.getElementById("stats-services");
  const rows = [...document.querySelectorAll("#stats-table tbody tr")];
  const broken = [];
  const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.checkVisibility()) continue;
    for (const match of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return {
    rows: rows.length,
    cards: rows.filter((tr) => getComputedStyle(tr).display === "block").length,
    broken,
  };
}"""
