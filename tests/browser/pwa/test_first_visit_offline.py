"""After one light first visit the report flow works offline: the map library is not
downloaded at install, but kept as soon as a map is shown or the worker serves a page."""

from __future__ import annotations

from tests.browser.pwa.conftest import stored_requests, wait_for
from tests.browser.test_pwa_shell import eventually, wait_for_control

IN_SHELL = """(part) => caches.keys()
  .then((names) => Promise.all(names.filter((n) => n.startsWith('civic311-shell-'))
    .map((n) => caches.open(n).then((c) => c.keys()))))
  .then((lists) => lists.flat().some((r) => new URL(r.url).pathname + new URL(r.url).search
    === part || new URL(r.url).pathname === part))"""


def in_shell(page, part: str) -> bool:
    return page.evaluate(IN_SHELL, part)


def test_report_flow_works_offline_after_a_first_visit_that_never_showed_the_map(
    live_app, browser_context, page, flow, photo_file
):
    page.goto("/")
    wait_for_control(page)
    assert not in_shell(page, "/static/vendor/leaflet/leaflet.js")

    browser_context.set_offline(True)
    flow.open()
    flow.photo(photo_file)
    flow.category()
    flow.location(gps=True)
    # No map library on the phone yet: the map says so and the GPS position is enough.
    page.wait_for_selector("#report-map.map-offline", state="attached")
    flow.description()
    flow.contact()
    flow.send()
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    assert stored_requests(live_app) == []

    browser_context.set_offline(False)
    wait_for(page, lambda: stored_requests(live_app))
    assert len(stored_requests(live_app)) == 1


def test_a_map_shown_once_keeps_leaflet_and_shows_offline(live_app, browser_context, page, flow):
    page.goto("/")
    wait_for_control(page)
    page.wait_for_selector("#step-progress:has-text('Step 1')")
    flow.photo()
    flow.category()
    flow.location(gps=True)
    page.wait_for_selector("#report-map .leaflet-marker-icon", state="attached")
    eventually(page, IN_SHELL, "/static/vendor/leaflet/leaflet.js")
    eventually(page, IN_SHELL, "/static/vendor/leaflet/leaflet.css")

    browser_context.set_offline(True)
    # Offline, the report page gets the map library from the phone's copy: both files
    # answer, and the script defines Leaflet.
    page.goto("/")
    wait_for_control(page)
    for part in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css"):
        assert page.evaluate("(url) => fetch(url).then((r) => r.ok, () => false)", part), part
    page.add_script_tag(url="/static/vendor/leaflet/leaflet.js")
    assert page.evaluate("() => typeof window.L === 'object' && typeof window.L.map")


def test_the_next_page_the_worker_serves_keeps_the_map_library_and_help(
    live_app, browser_context, page
):
    page.goto("/")
    wait_for_control(page)
    assert not in_shell(page, "/help")
    page.goto("/my")
    for part in (
        "/help",
        "/static/js/help-search.js",
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet/images/marker-icon.png",
    ):
        eventually(page, IN_SHELL, part)

    browser_context.set_offline(True)
    page.goto("/help")
    assert page.locator("h1").first.inner_text() == "Help and answers"
    assert page.locator("#help-q").count() == 1
