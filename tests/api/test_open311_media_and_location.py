"""Every media_url kept (fetched safely, or kept as a reference), FixMyStreet's
"not pinpointed" reports, landmark-only reports, and line endings."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from tests import factories
from tests.api.test_open311 import BASE, FORMATS, error_of, parse_xml, requests_of
from tests.fakes import serve
from tests.fakes.photo_host import FakePhotoHost
from webapp.domain.open311 import remote_media
from webapp.domain.people import api_keys
from webapp.models import EventKind, Photo, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


@pytest.fixture
def photo_host():
    """The fake photo host on 127.0.0.1: ``(fake, url)``."""
    fake = FakePhotoHost()
    running = serve(fake)
    yield fake, running.url
    running.stop()


@pytest.fixture
def trusting_app(make_app):
    """An app that may fetch media from 127.0.0.1 (tests only), inside a context."""
    app = make_app(MEDIA_FETCH_ALLOW_HOSTS="127.0.0.1", MEDIA_FETCH_TIMEOUT=2.0)
    with app.app_context():
        factories.gen_city()
        yield app


def _key() -> str:
    key, _record = api_keys.issue("FixMyStreet")
    db.session.commit()
    return key


def _post(client, data: list[tuple[str, str]], fmt="json", headers=None):
    base = [
        ("service_code", "graffiti"),
        ("lat", "35.045"),
        ("long", "-85.31"),
        ("description", "Tag on the wall"),
    ]
    names = {name for name, _value in data}
    fields = [(n, v) for n, v in base if n not in names] + [(n, v) for n, v in data if v is not None]
    from werkzeug.datastructures import MultiDict

    return client.post(f"{BASE}/requests.{fmt}", data=MultiDict(fields), headers=headers or {})


def _created(response) -> ServiceRequest:
    assert response.status_code == 201, response.get_data(as_text=True)
    public_id = response.get_json()[0]["service_request_id"]
    return db.session.query(ServiceRequest).filter_by(public_id=public_id).one()


def _media_records(item: ServiceRequest) -> list[dict]:
    created = next(e for e in item.events if e.kind == EventKind.CREATED)
    return created.data.get("media_urls", [])


def test_every_media_url_is_fetched_into_the_photo_pipeline(trusting_app, photo_host):
    fake, url = photo_host
    client = trusting_app.test_client()
    key = _key()
    response = _post(
        client,
        [("api_key", key), ("media_url", f"{url}/photo.jpg"), ("media_url", f"{url}/other.jpg")],
    )
    item = _created(response)
    photos = db.session.query(Photo).filter_by(request_id=item.id).all()
    assert len(photos) == 2 and len({p.sha256 for p in photos}) == 2
    assert [r["fetched"] for r in _media_records(item)] == [True, True]
    entry = client.get(f"{BASE}/requests/{item.public_id}.json").get_json()[0]
    assert entry["media_url"].endswith(photos[0].display_key)


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/text.jpg", "not a photo"),
        ("/huge.jpg", "too large"),
        ("/slow.jpg", "too slow"),
        ("/missing.jpg", "answered 404"),
        ("/redirect?to=http://10.1.2.3/x.jpg", "not a public address"),
        ("/redirect?to=file:///etc/passwd", "only http and https"),
    ],
)
def test_a_media_url_that_cannot_be_fetched_is_kept_as_a_reference(
    make_app, photo_host, path, reason
):
    fake, url = photo_host
    app = make_app(MEDIA_FETCH_ALLOW_HOSTS="127.0.0.1", MEDIA_FETCH_TIMEOUT=1.0, MEDIA_FETCH_MAX_MB=1)
    with app.app_context():
        factories.gen_city()
        client = app.test_client()
        response = _post(
            client,
            [("api_key", _key()), ("media_url", f"{url}{path}"), ("media_url", f"{url}/photo.jpg")],
        )
        item = _created(response)
        records = _media_records(item)
        assert [r["url"] for r in records] == [f"{url}{path}", f"{url}/photo.jpg"]
        assert records[0]["fetched"] is False and reason in records[0]["error"]
        assert records[1]["fetched"] is True
        assert db.session.query(Photo).filter_by(request_id=item.id).count() == 1


def test_private_addresses_are_never_fetched_unless_allowed(client, city, photo_host):
    fake, url = photo_host
    key = _key()
    for fmt in FORMATS:
        response = _post(client, [("api_key", key), ("media_url", f"{url}/photo.jpg")], fmt)
        assert response.status_code == 201
    assert fake.requests == []
    item = db.session.query(ServiceRequest).first()
    assert _media_records(item)[0]["error"] == "not a public address"
    entry = requests_of(client.get(f"{BASE}/requests/{item.public_id}.xml"), "xml")[0]
    assert not entry.get("media_url"), "a refused URL is not republished"


@pytest.mark.parametrize(
    "address, public",
    [
        ("127.0.0.1", False),
        ("10.0.0.8", False),
        ("172.16.4.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("::7f00:1", False),
        ("64:ff9b:1::a00:1", False),
        ("2002:7f00:1::", False),
        ("64:ff9b::5db8:d822", True),
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
    ],
)
def test_only_public_addresses_count_as_public(address, public):
    assert remote_media._public(address) is public


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_that_is_not_pinpointed_needs_a_location(client, city, auth, fmt):
    response = _post(
        client,
        [
            ("api_key", _key()),
            ("lat", None),
            ("long", None),
            ("address_id", "#NOTPINPOINTED#"),
            ("description", "Graffiti on the underpass by the library\r\n\r\nSent from FixMyStreet"),
        ],
        fmt,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    item = db.session.query(ServiceRequest).one()
    assert (item.lat, item.long, item.needs_location) == (None, None, True)
    assert item.description == "Graffiti on the underpass by the library\n\nSent from FixMyStreet"
    assert item.landmark == "Graffiti on the underpass by the library"
    entry = requests_of(client.get(f"{BASE}/requests/{item.public_id}.{fmt}"), fmt)[0]
    assert entry["lat"] in (None, "") and entry["long"] in (None, "")
    extended = client.get(f"{BASE}/requests/{item.public_id}.json?extensions=true").get_json()
    assert extended[0]["extended_attributes"]["needs_location"] is True
    near = client.get(f"{BASE}/requests.{fmt}?lat=35.045&long=-85.31&radius=5000")
    assert item.public_id not in [r["service_request_id"] for r in requests_of(near, fmt)]


def test_not_pinpointed_still_needs_words_and_other_address_ids_are_refused(client, city):
    key = _key()
    no_words = _post(
        client,
        [("api_key", key), ("lat", None), ("long", None), ("address_id", "#NOTPINPOINTED#"),
         ("description", "")],
    )
    assert "describe the place" in error_of(no_words, 400, "json")
    other = _post(client, [("api_key", key), ("lat", None), ("long", None), ("address_id", "A-17")])
    assert "address_id is not supported" in error_of(other, 400, "json")
    assert db.session.query(ServiceRequest).count() == 0


def test_staff_see_needs_location_and_every_page_copes_without_coordinates(client, city, auth):
    response = _post(
        client,
        [("api_key", _key()), ("lat", None), ("long", None), ("address_id", "#NOTPINPOINTED#")],
    )
    item = _created(response)
    auth.login("staff")
    queue = client.get("/staff/")
    assert queue.status_code == 200 and "Needs location" in queue.get_data(as_text=True)
    workbench = client.get(f"/staff/requests/{item.public_id}")
    assert workbench.status_code == 200 and "Needs location" in workbench.get_data(as_text=True)
    page = client.get(f"/requests/{item.public_id}")
    assert page.status_code == 200 and 'id="status-map"' not in page.get_data(as_text=True)
    geo = json.loads(client.get("/staff/export/requests.geojson").get_data(as_text=True))
    assert [f["geometry"] for f in geo["features"]] == [None]
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/export/requests.csv").get_data(as_text=True))))
    assert rows[0]["lat"] == "" and rows[0]["service_request_id"] == item.public_id
    assert client.get("/open311/v2/requests.json").status_code == 200
    assert client.get("/api/v1/requests").status_code == 200


def test_staff_place_a_request_that_needs_a_location(client, city, auth):
    response = _post(
        client,
        [("api_key", _key()), ("lat", None), ("long", None), ("address_id", "#NOTPINPOINTED#")],
    )
    item = _created(response)
    auth.login("staff")
    outside = client.post(
        f"/staff/requests/{item.public_id}/location", data={"lat": "36.16", "long": "-86.78"}
    )
    assert outside.status_code == 302
    db.session.refresh(item)
    assert item.needs_location and item.lat is None
    inside = client.post(
        f"/staff/requests/{item.public_id}/location", data={"lat": "35.045", "long": "-85.31"}
    )
    assert inside.status_code == 302
    db.session.refresh(item)
    assert (item.lat, item.long, item.needs_location) == (35.045, -85.31, False)
    assert item.neighborhood is not None
    assert "Needs location" not in client.get("/staff/").get_data(as_text=True)


def test_the_app_takes_a_landmark_only_report_without_making_up_a_point(client, city):
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "landmark": "Behind the Walnut Street Bridge steps"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()["data"]
    assert body["lat"] is None and body["long"] is None and body["needs_location"] is True
    stored = db.session.query(ServiceRequest).one()
    assert stored.needs_location and stored.landmark == "Behind the Walnut Street Bridge steps"


def test_a_report_with_neither_place_nor_pin_is_still_refused(client, city):
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "landmark": "   "},
    )
    assert response.status_code == 422
    assert db.session.query(ServiceRequest).count() == 0


def test_a_pinned_report_does_not_need_a_location(client, city):
    item = factories.gen_request("graffiti")
    assert item.needs_location is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_idempotency_key_makes_a_retried_open311_post_return_the_first(client, city, fmt):
    key, headers = _key(), {"Idempotency-Key": str(uuid.uuid4())}
    first = _post(client, [("api_key", key)], fmt, headers)
    again = _post(client, [("api_key", key)], fmt, headers)
    assert (first.status_code, again.status_code) == (201, 200)
    if fmt == "xml":
        ids = [parse_xml(r).find("request/service_request_id").text for r in (first, again)]
    else:
        ids = [r.get_json()[0]["service_request_id"] for r in (first, again)]
    assert ids[0] == ids[1]
    assert db.session.query(ServiceRequest).count() == 1
    assert db.session.query(RequestEvent).filter_by(kind=EventKind.CREATED).count() == 1
