"""Places without HTTP: the city boundary, neighborhoods, distances and geocoding."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from webapp.domain.errors import DomainError
from webapp.domain.geo import geocoding, places
from webapp.jobs import runner as workers
from webapp.models import GeocodeState
from webapp.plumbing.extensions import db


@pytest.fixture
def geo_app(make_app, nominatim):
    """An app whose geocoder is the fake, with a city loaded."""
    _fake, server = nominatim
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{server.port}", GEOCODER_TIMEOUT=0.3)
    geocoding.reset()
    with app.test_request_context():
        factories.gen_city()
        yield app
    geocoding.reset()


@pytest.mark.parametrize(
    "lat, long",
    [factories.INSIDE, factories.INSIDE_EAST, (35.0, -85.3), (35.1, -85.35)],
    ids=["west", "east", "south-edge", "corner"],
)
def test_points_inside_or_on_the_boundary_are_accepted(app, city, lat, long):
    places.check_inside_city(lat, long)


@pytest.mark.parametrize(
    "lat, long", [factories.OUTSIDE, (34.9999, -85.3), (35.05, -85.2499)], ids=str
)
def test_points_outside_the_city_are_refused_with_a_reason(app, city, lat, long):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        places.check_inside_city(lat, long)
    assert refused.value.details["reason"] == "outside_city"
    assert "outside the city" in refused.value.message


@pytest.mark.parametrize("lat, long", [(91, 0), (0, -181)])
def test_impossible_positions_are_refused(app, city, lat, long):
    with app.test_request_context(), pytest.raises(DomainError):
        places.check_inside_city(lat, long)


def test_without_a_boundary_every_valid_point_is_accepted(app):
    places.check_inside_city(*factories.OUTSIDE)


@pytest.mark.parametrize(
    "point, expected",
    [
        (factories.INSIDE, "West Side"),
        (factories.INSIDE_EAST, "East Side"),
        (factories.OUTSIDE, None),
    ],
)
def test_neighborhood_is_found_by_point_in_polygon(app, city, point, expected):
    hood = places.neighborhood_for(*point)
    assert (hood.name if hood else None) == expected


def test_submitted_request_gets_its_neighborhood(app, city):
    assert factories.gen_request(lat=35.05, long=-85.27).neighborhood.name == "East Side"


def test_haversine_distance_and_bounding_box():
    assert places.distance_m(35.0, -85.3, 35.0, -85.3) == 0
    assert places.distance_m(35.0, -85.3, 35.001, -85.3) == pytest.approx(111.2, abs=0.5)
    min_lat, min_long, max_lat, max_long = places.bounding_box(35.0, -85.3, 200)
    assert places.distance_m(35.0, -85.3, max_lat, -85.3) == pytest.approx(200, abs=1)
    assert places.distance_m(35.0, -85.3, 35.0, max_long) == pytest.approx(200, abs=1)
    assert min_lat < 35.0 < max_lat and min_long < -85.3 < max_long


def test_search_is_bounded_to_the_city_and_sends_the_user_agent(geo_app, nominatim):
    fake, _server = nominatim
    found = geocoding.search("11th street")
    assert found == [
        geocoding.Place("101 East 11th Street, Chattanooga", 35.0456, -85.3097, "37402")
    ]
    sent = fake.requests[0]
    assert sent["path"] == "/search"
    assert sent["args"]["bounded"] == "1"
    assert [float(v) for v in sent["args"]["viewbox"].split(",")] == [-85.35, 35.0, -85.25, 35.1]
    assert sent["user_agent"] == geo_app.config["GEOCODER_USER_AGENT"]


def test_answers_are_cached(geo_app, nominatim):
    fake, _server = nominatim
    assert geocoding.search("Riverside") == geocoding.search(" riverside ")
    assert geocoding.reverse(35.05, -85.3) == geocoding.reverse(35.05, -85.3)
    assert fake.paths() == ["/search", "/reverse"]


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_geocoder_trouble_fails_soft(geo_app, nominatim, mode):
    fake, _server = nominatim
    fake.mode = mode
    assert geocoding.search("11th street") is None
    assert geocoding.reverse(35.05, -85.3) is None
    fake.mode = "up"
    assert geocoding.search("11th street")  # failures are not cached


def test_pending_requests_get_their_address_after_commit(geo_app, nominatim):
    fake, _server = nominatim
    request = factories.gen_request()
    typed = factories.gen_request()
    typed.address, typed.geocode_state = "Typed by hand", GeocodeState.NOT_NEEDED
    db.session.commit()
    assert fake.requests == []  # submit never calls the geocoder
    assert request.geocode_state == GeocodeState.PENDING
    assert geocoding.geocode_pending() == 1
    db.session.refresh(request)
    assert request.address == "101 East 11th Street, Chattanooga"
    assert request.zipcode == "37402"
    assert request.geocode_state == GeocodeState.DONE
    assert typed.address == "Typed by hand"
    assert geocoding.geocode_pending() == 0


def test_a_point_with_no_address_is_not_asked_again(geo_app, nominatim):
    request = factories.gen_request(lat=35.095, long=-85.3)
    assert geocoding.geocode_pending() == 1
    assert request.geocode_state == GeocodeState.FAILED and request.address is None
    assert request.geocode_attempts == geocoding.MAX_ATTEMPTS


def test_geocoder_outage_is_retried_with_backoff(geo_app, nominatim):
    fake, _server = nominatim
    first, second = factories.gen_request(), factories.gen_request()
    fake.mode = "down"
    assert geocoding.geocode_pending() == 0
    assert (first.geocode_state, first.geocode_attempts) == (GeocodeState.FAILED, 1)
    assert second.geocode_state == GeocodeState.PENDING  # the batch stopped at the outage
    calls = len(fake.requests)
    assert geocoding.geocode_pending() == 0 and len(fake.requests) == calls  # breaker open
    fake.mode = "up"
    geocoding._breaker.reset()
    assert geocoding.geocode_pending() == 1  # the failed one waits for its backoff
    assert first.geocode_state == GeocodeState.FAILED
    first.received_at -= timedelta(minutes=2)
    db.session.commit()
    assert geocoding.geocode_pending() == 1
    assert first.geocode_state == GeocodeState.DONE and first.address


def test_geocoding_runs_as_a_background_job_and_a_command(geo_app):
    assert workers._JOBS["geocode"][0] is geocoding.geocode_pending
    factories.gen_request()
    result = geo_app.test_cli_runner().invoke(args=["geocode-pending", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "Geocoded 1 requests." in result.output
