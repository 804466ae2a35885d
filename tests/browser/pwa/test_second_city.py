"""A second city, set up from nothing with ``flask city apply examples/evanston``: a
resident's report at phone size refused outside Evanston's boundary and accepted
inside, in one of its neighborhoods, with its catalogue's questions and its colours;
Open311 discovery is its own and only its jurisdiction is answered; /stats is its own; the
app installs with the icons drawn from the pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, PHONE, chromium_path
from tests.browser.pwa.conftest import stored_requests, wait_for
from tests.browser.worker import service_worker_ready
from webapp.plumbing.extensions import db

EVANSTON = Path(__file__).resolve().parents[3] / "examples" / "evanston"


@pytest.fixture
def live_app(make_app, tile_server):
    """An empty database with the Evanston pack applied, tiles from the fake server."""
    app = make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["city", "apply", str(EVANSTON)])
        assert result.exit_code == 0, result.output
        db.session.remove()
    return app


def test_evanston_resident_journey_discovery_and_stats(live_app, page, flow, screenshot):
    flow.open()
    assert page.title().endswith("Evanston 311")
    header = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(78, 42, 132)"  # #4e2a84 from city.toml
    flow.photo()
    flow.location(gps=False, lat=41.95, long=-87.70)  # Chicago, south of Howard Street
    flow.category("pothole", answers={"#attr-pothole-size": "large"})
    flow.description("Deep hole by the curb")
    flow.contact()
    flow.send()
    page.wait_for_selector(".outbox-error:has-text('outside the city limits')")
    screenshot("outside-evanston")
    assert stored_requests(live_app) == []

    page.click(".outbox-fix")
    # Until the page's script has put the report back, every step shows as one plain form
    # and typing would be overwritten: the editing notice says the report is back.
    page.wait_for_selector("#editing-notice:visible")
    page.wait_for_selector("#step-location-title:visible")
    page.click(".coordinates summary") if not page.is_visible("#lat") else None
    page.fill("#lat", "42.0400")
    page.fill("#long", "-87.6800")  # downtown Evanston
    page.dispatch_event("#long", "change")
    for step in ("description", "contact", "review"):  # one step at a time, each shown first
        page.click("#step-next")
        page.wait_for_selector(f"#step-{step}-title:visible")
    page.click("#send-report")
    stored = wait_for(page, lambda: stored_requests(live_app))
    assert stored[0].service.service_code == "pothole"
    assert stored[0].attribute_values == {"size": "large"}
    with live_app.app_context():
        request = db.session.merge(stored[0])
        assert request.neighborhood.name == "Downtown Evanston"
        assert request.department.name == "Public Works Agency"
    screenshot("sent-in-evanston")

    discovery = page.request.get("/open311/v2/discovery.json").json()
    assert discovery["contact"].startswith("Evanston 311")
    assert discovery["jurisdiction_id"] == "cityofevanston.org"
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2")
    services = page.request.get(
        "/open311/v2/services.json?jurisdiction_id=cityofevanston.org").json()
    assert len(services) >= 40
    assert page.request.get(
        "/open311/v2/services.json?jurisdiction_id=chattanooga.tn.us").status == 404

    page.goto("/stats")
    assert "Evanston" in page.title()
    assert page.locator("text=Pothole").first.is_visible()
    screenshot("stats")
    assert [e for e in page.console.errors if "422" not in e] == []  # only the refusal


def test_evanston_app_installs_with_the_icons_drawn_from_its_pack(playwright_instance,
                                                                   live_server, tmp_path):
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=live_server.base_url,
        service_workers="allow",
        viewport=PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        service_worker_ready(page)
        page.wait_for_function("!!navigator.serviceWorker.controller")
        cdp = page.context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        icons = page.request.get("/manifest.webmanifest").json()["icons"]
        assert icons and all(i["src"].startswith("/brand/icons/") for i in icons)
        for icon in icons:
            answer = page.request.get(icon["src"])
            assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    finally:
        context.close()
