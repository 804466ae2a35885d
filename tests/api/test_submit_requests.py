"""POST /api/v1/requests: the outbox's door, exactly once per Idempotency-Key."""

import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from webapp.models import Channel, Follow, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


def jpeg_bytes(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    """A small real JPEG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def form(**overrides) -> dict:
    """A valid graffiti report inside the city."""
    data = {
        "service_code": "graffiti",
        "lat": str(factories.INSIDE[0]),
        "long": str(factories.INSIDE[1]),
        "accuracy": "12",
        "description": "Tags on the underpass",
        "captured_at": "2024-05-01T10:00:00Z",
    }
    data.update(overrides)
    return data


def post(client, data, key=None, photos=(), headers=None):
    """Send one multipart report the way the outbox does."""
    payload = dict(data)
    if photos:
        payload["photos"] = [(io.BytesIO(p), f"photo-{i}.jpg") for i, p in enumerate(photos)]
    return client.post(
        "/api/v1/requests",
        data=payload,
        content_type="multipart/form-data",
        headers={**WRITE, "Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})},
    )


def count_requests() -> int:
    return db.session.scalar(select(func.count(ServiceRequest.id)))


def test_new_report_is_created_with_its_photo_and_location_header(client, city):
    response = post(client, form(), photos=[jpeg_bytes()])
    assert response.status_code == 201
    body = response.get_json()
    assert body["meta"]["created"] is True
    assert response.headers["Location"] == f"/api/v1/requests/{body['data']['id']}"
    assert len(body["data"]["photos"]) == 1
    assert body["data"]["channel"] == "pwa"
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.location_accuracy_m == 12
    assert stored.device_captured_at.year == 2024


def test_anonymous_report_gets_a_device_token_that_links_and_follows(client, city):
    response = post(client, form())
    token = response.headers["X-Device-Token"]
    assert token and "civic_device" in response.headers.get("Set-Cookie", "")
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.device_id is not None and stored.requester_id is None
    assert db.session.scalar(select(func.count(Follow.id))) == 1
    again = post(client, form(description="Another one"), headers={"X-Device-Token": token})
    assert "X-Device-Token" not in again.headers
    second = db.session.get(ServiceRequest, 2)
    assert second.device_id == stored.device_id


def test_notify_off_does_not_follow(client, city):
    post(client, form(notify="0"))
    assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_replayed_report_is_not_duplicated(client, city):
    key = str(uuid.uuid4())
    first = post(client, form(), key=key, photos=[jpeg_bytes()])
    second = post(client, form(), key=key.upper(), photos=[jpeg_bytes()])
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert second.get_json()["meta"]["created"] is False
    assert count_requests() == 1


def test_same_key_with_a_different_report_is_refused(client, city):
    key = str(uuid.uuid4())
    post(client, form(), key=key)
    response = post(client, form(description="Something else entirely"), key=key)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "Idempotency-Key" or (
        "key" in response.get_json()["error"]["message"]
    )
    assert count_requests() == 1


@pytest.mark.parametrize("key", ["", "not-a-uuid", "1234"])
def test_missing_or_malformed_key_is_a_400(client, city, key):
    response = client.post(
        "/api/v1/requests",
        data=form(),
        content_type="multipart/form-data",
        headers={**WRITE, **({"Idempotency-Key": key} if key else {})},
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["error"]["message"]
    assert count_requests() == 0


def test_missing_anti_forgery_header_is_refused(client, city):
    response = client.post(
        "/api/v1/requests",
        data=form(),
        content_type="multipart/form-data",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert count_requests() == 0


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"lat": "36.16", "long": "-86.78"}, "outside the city"),
        ({"service_code": "pothole"}, "How big is it?"),
        ({"description": "x" * 4001}, "too long"),
    ],
)
def test_invalid_reports_get_a_clear_422(client, city, overrides, expected):
    response = post(client, form(**overrides))
    assert response.status_code == 422
    assert expected in response.get_json()["error"]["message"]
    assert count_requests() == 0


@pytest.mark.parametrize("service_code", ["nope", "hidden"])
def test_a_service_code_that_names_no_open_service_is_404(client, city, service_code):
    """The document allows any code; one that names no service the public may report is
    a thing that is not there, as the document declares."""
    factories.gen_service("hidden", public=False)
    db.session.commit()
    response = post(client, form(service_code=service_code))
    assert response.status_code == 404
    assert "We do not take reports" in response.get_json()["error"]["message"]
    assert count_requests() == 0


def test_outside_city_says_why_in_details(client, city):
    response = post(client, form(lat=str(factories.OUTSIDE[0]), long=str(factories.OUTSIDE[1])))
    assert response.get_json()["error"]["details"]["reason"] == "outside_city"


def test_too_many_photos_is_refused(client, city):
    response = post(client, form(), photos=[jpeg_bytes(colour=(i, 0, 0)) for i in range(4)])
    assert response.status_code == 422
    assert "at most 3 photos" in response.get_json()["error"]["message"]


def test_attribute_answers_are_stored(client, city):
    response = post(client, form(service_code="pothole", **{"attribute[size]": "large"}))
    assert response.status_code == 201
    assert response.get_json()["data"]["attributes"] == {"size": "large"}


def test_request_too_large_is_a_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2000)
    with app.app_context():
        factories.gen_city()
        client = app.test_client()
        response = post(client, form(), photos=[bytes(5000)])
        assert response.status_code == 413
        assert "too large" in response.get_json()["error"]["message"]
        assert count_requests() == 0


def test_anonymous_submissions_are_rate_limited_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per hour")
    with app.app_context():
        factories.gen_city()
        client = app.test_client()
        first = post(client, form(description="one"))
        token = first.headers["X-Device-Token"]
        post(client, form(description="two"), headers={"X-Device-Token": token})
        third = post(client, form(description="three"), headers={"X-Device-Token": token})
        assert third.status_code == 429
        assert int(third.headers["Retry-After"]) > 0
        assert count_requests() == 2


def test_liaison_logs_a_community_issue_for_a_neighbor(client, city, auth):
    liaison = auth.login("liaison")
    response = post(
        client,
        form(
            contact_name="Neighbor Nell",
            contact_phone="423-555-0101",
            contact_email="nell@example.net",
            community_issue="1",
        ),
    )
    assert response.status_code == 201
    assert response.get_json()["data"]["channel"] == "liaison"
    assert "Neighbor Nell" not in response.get_data(as_text=True)
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.channel == Channel.LIAISON
    assert stored.logged_by_id == liaison.id
    assert stored.requester_id is None and stored.device_id is None
    assert stored.community_issue is True
    assert (stored.contact_name, stored.contact_phone) == ("Neighbor Nell", "423-555-0101")


def test_community_flag_is_ignored_for_residents(client, city, auth):
    resident = auth.login("resident")
    post(client, form(community_issue="1"))
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.channel == Channel.PWA and stored.community_issue is False
    assert stored.requester_id == resident.id and stored.logged_by_id is None


def test_signed_in_resident_is_not_held_by_the_anonymous_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per hour")
    with app.app_context():
        factories.gen_city()
        client = app.test_client()
        from tests.conftest import AuthActions

        AuthActions(client).login("resident")
        codes = [post(client, form(description=f"n{i}")).status_code for i in range(3)]
        assert codes == [201, 201, 201]


def test_dropping_the_device_cookie_does_not_lift_the_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per hour")
    with app.app_context():
        factories.gen_city()
        codes = [post(app.test_client(), form(description=f"n{i}")).status_code for i in range(3)]
        assert codes == [201, 201, 429]
