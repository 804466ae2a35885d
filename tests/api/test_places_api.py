"""Address search, the city boundary and nearby open requests through the API."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from webapp.domain.geo import geocoding
from webapp.domain.lifecycle import workflow as rules
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
BASE = factories.INSIDE
METRE_LAT = 1 / 111_200


@pytest.fixture
def geo_client(make_app, nominatim):
    """A client of an app whose geocoder is the fake, with a city loaded."""
    _fake, server = nominatim
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{server.port}", GEOCODER_TIMEOUT=0.3)
    geocoding.reset()
    with app.app_context():
        factories.gen_city()
        yield app.test_client()
    geocoding.reset()


def test_address_search_returns_labels_and_positions(geo_client):
    response = geo_client.get("/api/v1/geocode?q=Riverside")
    assert response.status_code == 200
    assert response.get_json()["data"] == [
        {"label": "Riverside Drive, Chattanooga", "lat": 35.0531, "long": -85.265}
    ]


def test_address_search_with_no_match_is_an_empty_list(geo_client):
    assert geo_client.get("/api/v1/geocode?q=nowhere").get_json()["data"] == []


@pytest.mark.parametrize("query", ["", "q=", "q=%20%20", "q=" + "x" * 201])
def test_address_search_needs_a_query(geo_client, query):
    response = geo_client.get(f"/api/v1/geocode?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "q"


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_address_search_says_clearly_when_the_geocoder_is_unavailable(geo_client, nominatim, mode):
    nominatim[0].mode = mode
    response = geo_client.get("/api/v1/geocode?q=Riverside")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["details"]["reason"] == "geocoder_unavailable"
    assert "pin the spot" in error["message"]


def test_submission_never_waits_for_the_geocoder(geo_client, nominatim):
    nominatim[0].mode = "slow"
    response = geo_client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31"},
    )
    assert response.status_code == 201
    assert response.get_json()["data"]["address"] is None
    assert nominatim[0].requests == []


def test_report_outside_the_city_is_refused_with_a_clear_reason(client, city):
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "lat": "36.16", "long": "-86.78"},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"]["reason"] == "outside_city"
    assert "outside the city limits" in error["message"]


def _at(metres_north: float, service: str = "graffiti", **kwargs):
    return factories.gen_request(
        service, lat=BASE[0] + metres_north * METRE_LAT, long=BASE[1], **kwargs
    )


@pytest.fixture
def neighbourhood(app, city):
    """Open requests at known distances north of BASE, plus ones that must not show."""
    staff = factories.gen_user("staff")
    factories.gen_service("internal", public=False)
    db.session.commit()
    made = {
        "near": _at(55),
        "mid": _at(165, contact_email="private@example.net"),
        "far": _at(330),
        "light": _at(20, "streetlight"),
        "closed": _at(10),
        "private": _at(5, "internal", channel="phone"),
    }
    rules.transition(made["closed"], "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    return {name: request.public_id for name, request in made.items()}


def _nearby(client, query: str):
    return client.get(f"/api/v1/requests/nearby?lat={BASE[0]}&long={BASE[1]}{query}")


def test_nearby_lists_open_public_requests_nearest_first(client, neighbourhood):
    response = _nearby(client, "")
    assert response.status_code == 200
    body = response.get_json()
    assert [r["id"] for r in body["data"]] == [
        neighbourhood["light"],
        neighbourhood["near"],
        neighbourhood["mid"],
    ]
    assert [round(r["distance_m"]) for r in body["data"]] == [20, 55, 165]
    assert body["meta"] == {"count": 3, "radius_m": 200}
    assert "private@example.net" not in response.get_data(as_text=True)
    assert "contact_email" not in body["data"][0]


def test_nearby_filters_by_service_and_radius(client, neighbourhood):
    ids = [r["id"] for r in _nearby(client, "&service_code=graffiti&radius=400").get_json()["data"]]
    assert ids == [neighbourhood["near"], neighbourhood["mid"], neighbourhood["far"]]
    ids = [r["id"] for r in _nearby(client, "&radius=30&limit=1").get_json()["data"]]
    assert ids == [neighbourhood["light"]]


def test_nearby_is_not_taken_for_a_request_id(client, city):
    response = client.get("/api/v1/requests/nearby?lat=35.045&long=-85.31")
    assert response.status_code == 200 and response.get_json()["data"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("long=-85.31", "lat"),
        ("lat=35.045", "long"),
        ("lat=abc&long=-85.31", "lat"),
        ("lat=95&long=-85.31", "lat"),
        ("lat=35.045&long=-85.31&radius=5000", "radius"),
        ("lat=35.045&long=-85.31&radius=0", "radius"),
    ],
)
def test_nearby_refuses_bad_parameters_with_400(client, neighbourhood, query, field):
    response = client.get(f"/api/v1/requests/nearby?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field


@pytest.mark.parametrize("service_code", ["unicorns", "internal"])
def test_nearby_for_a_service_the_public_cannot_see_is_404(client, neighbourhood, service_code):
    response = client.get(f"/api/v1/requests/nearby?lat=35.045&long=-85.31&service_code={service_code}")
    assert response.status_code == 404
    assert response.get_json()["error"]["details"]["field"] == "service_code"


def test_new_routes_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/geocode"] and "get" in paths["/api/v1/requests/nearby"]
    assert {"post", "delete"} <= set(paths["/api/v1/requests/{public_id}/follow"])
