"""A liaison's neighborhood with many requests close together: the map draws them as
numbered clusters big enough to tap (axe's target-size rule included), and tapping a
cluster zooms in on it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations, inject_axe
from tests.browser.signing_in import sign_in
from tests.browser.targets import small_targets
from webapp.models import Neighborhood
from webapp.plumbing.extensions import db

REQUESTS = 26
TARGET_SIZE = """() => window.axe.run(document, {runOnly: ["target-size"]})
  .then((result) => result.violations.map((v) => v.nodes.map((n) => n.target.join(" "))).flat())"""


@pytest.fixture
def live_app(make_app, tile_server):
    """The app pointed at the fake tiles."""
    return make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png")


def test_liaison_map_clusters_close_markers_and_passes_target_size(
    live_app, tile_server, page, screenshot
):
    with live_app.app_context():
        factories.gen_city()
        west = db.session.scalar(select(Neighborhood).where(Neighborhood.name == "West Side"))
        email = factories.gen_user("liaison", neighborhood=west).email
        for n in range(REQUESTS):
            factories.gen_request(
                "graffiti", lat=35.04 + (n % 6) * 0.0004, long=-85.32 + (n // 6) * 0.0004
            )
        db.session.commit()
        db.session.remove()
    sign_in(page, email)
    page.goto("/liaison/")
    page.wait_for_selector("#liaison-map .map-cluster")
    screenshot("1-liaison-map")
    counts = [int(c) for c in page.locator("#liaison-map .map-cluster").all_inner_texts()]
    singles = page.locator("#liaison-map .map-pin").count()
    assert sum(counts) + singles == REQUESTS
    inject_axe(page)
    assert page.evaluate(TARGET_SIZE) == []
    assert_no_serious_axe_violations(page)
    assert small_targets(page) == []
    zoom_before = int(page.get_attribute("#liaison-map", "data-zoom"))
    page.locator("#liaison-map .map-cluster").first.click()
    page.wait_for_function(
        "(before) => Number(document.getElementById('liaison-map').dataset.zoom) > before",
        arg=zoom_before,
    )
    screenshot("2-cluster-opened")
    assert page.console.errors == []
