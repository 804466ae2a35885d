"""The report flow against the real places API: nearby duplicates ("follow it instead",
keeping the resident's photo and note), address search through the server and a fake
Nominatim, and a described place with no pin (found by the server, or sent "to be
confirmed" without coordinates — never the map's starting point)."""

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.pwa.conftest import make_jpeg, stored_requests, wait_for
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from webapp.domain.geo import geocoding
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.models import Follow, ServiceRequest
from webapp.plumbing.extensions import db

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


def walk_to_location(flow, code="graffiti"):
    """A photo, a category and GPS: the location step, with its nearby check done."""
    flow.open()
    flow.photo(*flow.photos)
    flow.category(code)
    flow.page.wait_for_selector("#step-location-title:visible")
    flow.tap("#use-location")
    flow.page.wait_for_selector("#location-status:has-text('accurate to about')")


def request_fields(route_request) -> dict:
    """The text fields of the app's multipart POST, as a dict."""
    import email.parser
    import email.policy

    raw = route_request.post_data_buffer
    head = f"Content-Type: {route_request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + raw)
    fields = {}
    for part in message.iter_parts():
        if part.get_filename() is None:
            fields[part.get_param("name", header="content-disposition")] = part.get_content()
    return fields


def test_nearby_request_with_photo_is_followed_instead_keeping_the_photo_and_note(
    live_app, page, flow, photo_file, screenshot, tmp_path
):
    with live_app.app_context():
        existing = factories.gen_request("graffiti", lat=GPS[0] + 0.00045, long=GPS[1])
        factories.gen_request("pothole", lat=GPS[0] + 0.0003, long=GPS[1])
        photo_pipeline.attach(
            existing, photo_pipeline.process(make_jpeg(tmp_path / "old.jpg").read_bytes())
        )
        db.session.commit()
        public_id = existing.public_id
        db.session.remove()
    use_real_nearby(page)
    flow.photos = (photo_file,)
    walk_to_location(flow)
    nearby = page.locator("#nearby")
    nearby.wait_for(state="visible")
    assert "Already reported nearby" in nearby.inner_text()
    rows = page.locator("#nearby-list li")
    assert rows.count() == 1
    assert public_id in rows.first.inner_text()
    assert "50 m away" in rows.first.inner_text()
    thumbnail = rows.first.locator("img")
    wait_for(page, lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"))
    # The same request is a dot on the location map; tapping it points at its row.
    dot = page.locator("#report-map path.map-nearby")
    dot.wait_for(state="attached")
    assert dot.count() == 1
    dot.dispatch_event("click")
    wait_for(
        page,
        lambda: page.evaluate("document.activeElement.closest('li')?.id") == f"nearby-{public_id}",
    )
    page.fill("#nearby-note", "Getting bigger every day")
    screenshot("2-location-nearby")
    flow.tap(
        f"#nearby-{public_id} button:has-text('Follow it instead')"
    )
    page.wait_for_selector("#report-done:visible")
    message = page.locator("#report-done-message").inner_text()
    assert public_id in message and "photo and note were added" in message
    screenshot("7-followed")
    with live_app.app_context():
        follows = db.session.scalars(select(Follow)).all()
        assert [(f.request.public_id, f.supporter) for f in follows] == [(public_id, True)]
        request = db.session.scalar(
            select(ServiceRequest).where(ServiceRequest.public_id == public_id)
        )
        assert request.supporters_count == 1
        comments = [e for e in request.events if e.kind == "supporter_comment"]
        assert [(c.note, c.public) for c in comments] == [("Getting bigger every day", True)]
        assert [(p.kind, p.width) for p in request.photos] == [
            ("report", 1600),
            ("supporter", 1600),
        ]
        db.session.remove()
    assert len(stored_requests(live_app)) == 2
    flow.tap(f"#report-done-link:has-text('See the status of {public_id}')")
    page.wait_for_selector(f"h1:has-text('{public_id}')")
    assert "Getting bigger every day" in page.inner_text(".timeline")
    page.wait_for_selector("figcaption:has-text('From a neighbor')")
    screenshot("8-status-with-supporter-photo")
    print(f"follow instead: {flow.taps} taps")
    assert page.console.errors == []


def test_address_search_through_the_server_moves_the_pin_and_is_stored(
    live_app, page, flow, nominatim, screenshot
):
    flow.open()
    flow.photo()
    flow.category()
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
    flow.description()
    flow.contact()
    page.wait_for_selector("#step-review-title:visible")
    assert "Riverside Drive" in page.inner_text("#review-summary")
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))[0]
    assert (stored.lat, stored.long) == RIVERSIDE
    assert stored.address.startswith("Riverside Drive")
    assert page.console.errors == []


def test_landmark_alone_is_found_through_the_city_address_search(
    live_app, page, flow, nominatim, screenshot
):
    flow.open()
    flow.photo()
    flow.category()
    page.wait_for_selector("#step-location-title:visible")
    # Leaflet loads when the step opens; the map marks its pin once it is built.
    page.wait_for_selector("#report-map[data-pin-placed]", state="attached")
    assert page.get_attribute("#report-map", "data-pin-placed") == "0"
    page.fill("#landmark", "Under the Riverside bridge, north side")
    flow.next()
    page.wait_for_selector("#step-description-title:visible")
    search = [r for r in nominatim.fake.requests if r["path"] == "/search"][-1]
    assert search["args"]["q"] == "Under the Riverside bridge, north side"
    assert search["args"].get("bounded") == "1" and search["args"].get("viewbox")
    flow.description()
    flow.contact()
    page.wait_for_selector("#step-review-title:visible")
    summary = page.inner_text("#review-summary")
    assert "Riverside Drive" in summary and "35.0" not in summary
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))[0]
    assert stored.landmark == "Under the Riverside bridge, north side"
    assert (stored.lat, stored.long) == RIVERSIDE
    assert stored.neighborhood_id is not None
    assert page.console.errors == []


def test_landmark_that_cannot_be_found_is_sent_without_coordinates(
    live_app, browser_context, page, flow, nominatim, screenshot
):
    nominatim.fake.mode = "down"
    sent = []

    def capture(route):
        if route.request.method == "POST":
            sent.append(request_fields(route.request))
        route.continue_()

    browser_context.route("**/api/v1/requests", capture)
    flow.open()
    flow.photo()
    flow.category()
    page.wait_for_selector("#step-location-title:visible")
    page.fill("#address-query", "Riverside")
    page.click("#address-search")
    message = page.locator("#address-results .error-message")
    message.wait_for()
    assert "Address search is not available right now" in message.inner_text()
    screenshot("2-geocoder-down")
    page.fill("#landmark", "Behind the old mill")
    flow.next()
    page.wait_for_selector("#step-description-title:visible")
    flow.description()
    flow.contact()
    page.wait_for_selector("#step-review-title:visible")
    assert "To be confirmed by the city: Behind the old mill" in page.inner_text("#review-summary")
    screenshot("6-review-to-confirm")
    flow.send()
    wait_for(page, lambda: sent)
    assert sent[0]["landmark"] == "Behind the old mill"
    assert "lat" not in sent[0] and "long" not in sent[0]


def test_landmark_only_report_arrives_flagged_location_to_be_confirmed(
    live_app, page, flow, nominatim
):
    nominatim.fake.mode = "down"
    flow.open()
    flow.photo()
    flow.category()
    flow.location(gps=False, landmark="Behind the old mill")
    flow.description()
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))[0]
    assert stored.landmark == "Behind the old mill"
    assert (stored.lat, stored.long) == (None, None)
    assert stored.needs_location is True
