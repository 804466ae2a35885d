"""The report flow against the real places API: nearby duplicates ("follow it instead")
and address search through the server and a fake Nominatim."""

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.pwa.conftest import stored_requests, wait_for
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from webapp.domain import geocoding
from webapp.extensions import db
from webapp.models import Follow, ServiceRequest

GPS = (35.045, -85.31)
RIVERSIDE = (35.0531, -85.2650)


@pytest.fixture
def nominatim():
    """A fake Nominatim on 127.0.0.1 (its mode can be switched to "down")."""
    geocoding.reset()
    fake = FakeNominatim()
    running = serve(fake)
    running.fake = fake
    yield running
    running.stop()
    geocoding.reset()


@pytest.fixture
def live_app(make_app, tile_server, nominatim):
    """The app with the fake tiles and the fake geocoder, the test city loaded."""
    app = make_app(
        TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png",
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
    )
    with app.app_context():
        factories.gen_city()
        db.session.remove()
    return app


def use_real_nearby(page):
    """Let the flow call the real nearby endpoint (the shared helper stubs it otherwise)."""
    page._nearby_routed = True


def walk_to_review(flow, code="graffiti"):
    """Photo skipped, GPS, a category, a description, no contact: the review step."""
    flow.open()
    flow.photo()
    flow.location(gps=True)
    flow.category(code)
    flow.description("Tag on the underpass wall")
    flow.contact()
    flow.page.wait_for_selector("#step-review-title:visible")


def test_nearby_open_request_is_followed_instead_of_sending_a_new_one(
    live_app, page, flow, screenshot
):
    with live_app.app_context():
        existing = factories.gen_request("graffiti", lat=GPS[0] + 0.00045, long=GPS[1])
        factories.gen_request("pothole", lat=GPS[0] + 0.0003, long=GPS[1])
        public_id = existing.public_id
        db.session.remove()
    use_real_nearby(page)
    walk_to_review(flow)
    nearby = page.locator("#nearby")
    nearby.wait_for(state="visible")
    assert "Is it one of these? Follow it instead." in nearby.inner_text()
    rows = page.locator("#nearby-list li")
    assert rows.count() == 1
    assert public_id in rows.first.inner_text()
    assert "50 m away" in rows.first.inner_text()
    screenshot("6-review-nearby")
    page.click(f"#nearby-list button:has-text('Follow {public_id} instead')")
    page.wait_for_selector("#report-done:visible")
    message = page.locator("#report-done-message").inner_text()
    assert public_id in message and "No new report was sent" in message
    screenshot("7-followed")
    with live_app.app_context():
        follows = db.session.scalars(select(Follow)).all()
        assert [(f.request.public_id, f.supporter) for f in follows] == [(public_id, True)]
        assert (
            db.session.scalar(
                select(ServiceRequest.supporters_count).where(ServiceRequest.public_id == public_id)
            )
            == 1
        )
        db.session.remove()
    assert len(stored_requests(live_app)) == 2
    page.click(f"#report-done-link:has-text('See the status of {public_id}')")
    page.wait_for_selector(f"h1:has-text('{public_id}')")
    assert page.console.errors == []


def test_address_search_through_the_server_moves_the_pin_and_is_stored(
    live_app, page, flow, nominatim, screenshot
):
    flow.open()
    flow.photo()
    page.wait_for_selector("#step-location-title:visible")
    page.click("#use-location")
    page.wait_for_selector("#location-status:has-text('accurate to about')")
    map_element = page.locator("#report-map")
    wait_for(page, lambda: map_element.get_attribute("data-pin-lat") == str(GPS[0]))
    page.fill("#address-query", "Riverside")
    page.press("#address-query", "Enter")
    choice = page.locator("#address-results button", has_text="Riverside Drive")
    choice.wait_for()
    screenshot("2-address-results")
    choice.click()
    wait_for(page, lambda: map_element.get_attribute("data-pin-lat") == str(RIVERSIDE[0]))
    assert float(map_element.get_attribute("data-pin-long")) == RIVERSIDE[1]
    assert page.locator("#location-status").inner_text().startswith("Riverside Drive")
    screenshot("2-address-chosen")
    searches = [r for r in nominatim.fake.requests if r["path"] == "/search"]
    assert searches and searches[0]["args"]["q"] == "Riverside"
    flow.next()
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))[0]
    assert (stored.lat, stored.long) == RIVERSIDE
    assert stored.address.startswith("Riverside Drive")
    assert page.console.errors == []


def test_geocoder_down_says_so_and_the_landmark_still_completes_the_report(
    live_app, page, flow, nominatim, screenshot
):
    nominatim.fake.mode = "down"
    flow.open()
    flow.photo()
    page.wait_for_selector("#step-location-title:visible")
    page.fill("#address-query", "Riverside")
    page.click("#address-search")
    message = page.locator("#address-results .error-message")
    message.wait_for()
    assert "Address search is not available right now" in message.inner_text()
    screenshot("2-geocoder-down")
    page.fill("#landmark", "Under the Riverside bridge, north side")
    flow.next()
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))[0]
    assert stored.landmark == "Under the Riverside bridge, north side"
    assert stored.lat is not None and stored.long is not None
    assert [e for e in page.console.errors if "503" not in e] == []
