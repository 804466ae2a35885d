"""Following a request ("me too") through the API: once per person or device."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from tests import factories
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
DATA = Path(__file__).resolve().parents[1] / "data"


def _follow(client, public_id: str, method: str = "post", headers: dict | None = None):
    return getattr(client, method)(
        f"/api/v1/requests/{public_id}/follow", headers={**WRITE, **(headers or {})}
    )


def test_a_device_follows_once_and_counts_once(client, city):
    request = factories.gen_request()
    client.get(f"/requests/{request.public_id}")  # the page offers this browser a device
    first = _follow(client, request.public_id)
    assert first.status_code == 200
    assert first.get_json()["data"] == {"following": True, "supporters_count": 1}
    assert "civic_device" in first.headers.get("Set-Cookie", "")
    again = _follow(client, request.public_id)
    assert again.get_json()["data"] == {"following": True, "supporters_count": 1}
    assert (
        client.get(f"/api/v1/requests/{request.public_id}").get_json()["data"]["supporters_count"]
        == 1
    )


def test_each_person_and_device_adds_one_supporter(make_app):
    # Requests run outside any pushed app context, so each one has its own ``g``
    # (the signed-in user and the device are remembered there).
    app = make_app()
    with app.app_context():
        factories.gen_city()
        public_id = factories.gen_request().public_id
        factories.gen_user(email="neighbour@example.com")
        db.session.commit()
    signed_in, phone, other_phone = app.test_client(), app.test_client(), app.test_client()
    for browser in (phone, other_phone):
        browser.get(f"/requests/{public_id}")  # each page offers its browser a device
    signed_in.post(
        "/auth/sign-in", data={"email": "neighbour@example.com", "password": factories.PASSWORD}
    )
    counts = [
        _follow(caller, public_id).get_json()["data"]["supporters_count"]
        for caller in (signed_in, phone, other_phone, phone, signed_in)
    ]
    assert counts == [1, 2, 3, 3, 3]


def test_unfollow_stops_counting(client, city):
    request = factories.gen_request()
    client.get(f"/requests/{request.public_id}")
    _follow(client, request.public_id)
    response = _follow(client, request.public_id, "delete")
    assert response.get_json()["data"] == {"following": False, "supporters_count": 0}
    db.session.refresh(request)
    assert request.supporters_count == 0


def test_the_requester_following_is_not_a_supporter(client, city):
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31", "notify": "0"},
    )
    public_id = response.get_json()["data"]["id"]
    followed = _follow(client, public_id)
    assert followed.get_json()["data"] == {"following": True, "supporters_count": 0}


def test_following_needs_the_anti_forgery_header(client, city):
    request = factories.gen_request()
    response = client.post(f"/api/v1/requests/{request.public_id}/follow")
    assert response.status_code == 400
    assert request.supporters_count == 0


def test_following_an_unknown_or_private_request_is_404(client, city):
    assert _follow(client, "311-999999").status_code == 404
    factories.gen_service("internal", public=False)
    hidden = factories.gen_request("internal", channel="phone")
    assert _follow(client, hidden.public_id).status_code == 404


def _follow_with(client, public_id: str, comment: str | None, photos: list[str]):
    data = {"photos": [(io.BytesIO((DATA / name).read_bytes()), name) for name in photos]}
    if comment is not None:
        data["comment"] = comment
    client.get(f"/requests/{public_id}")  # the page offers this browser a device to keep
    return client.post(
        f"/api/v1/requests/{public_id}/follow",
        data=data,
        headers=WRITE,
        content_type="multipart/form-data",
    )


def test_following_instead_keeps_the_neighbors_note_and_photo(client, city):
    request = factories.gen_request()
    response = _follow_with(
        client, request.public_id, "  Still there this morning  ", ["photo.webp"]
    )
    assert response.status_code == 200
    assert response.get_json()["data"] == {"following": True, "supporters_count": 1}
    db.session.refresh(request)
    comments = [e for e in request.events if e.kind == "supporter_comment"]
    assert [(c.note, c.public) for c in comments] == [("Still there this morning", True)]
    assert [p.kind for p in request.photos] == ["supporter"]
    timeline = client.get(f"/api/v1/requests/{request.public_id}").get_json()["data"]["timeline"]
    assert timeline[-1]["label"] == "A neighbor reported this too"
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert "From a neighbor" in page and "Still there this morning" in page


def test_a_bad_photo_with_a_follow_changes_nothing(client, city):
    request = factories.gen_request()
    response = _follow_with(client, request.public_id, "Look", ["text.jpg"])
    assert response.status_code in (400, 415, 422)
    db.session.refresh(request)
    assert request.supporters_count == 0
    assert not [e for e in request.events if e.kind == "supporter_comment"]


def test_a_note_on_a_closed_request_is_refused(client, city):
    request = factories.gen_request()
    request.status = "closed"
    request.detailed_status = "closed"
    db.session.commit()
    response = _follow_with(client, request.public_id, "Still broken", [])
    assert response.status_code in (403, 409, 422)


def test_follows_carrying_a_note_share_the_report_limit_but_plain_follows_do_not(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per hour")
    with app.app_context():
        factories.gen_city()
        ids = [factories.gen_request().public_id for _ in range(4)]
        client = app.test_client()
        statuses = [
            _follow_with(client, public_id, "Me too", []).status_code for public_id in ids[:3]
        ]
        assert statuses == [200, 200, 429]
        assert _follow(client, ids[3]).status_code == 200
