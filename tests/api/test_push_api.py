"""Push through the JSON API: the VAPID key, subscriptions tied to the caller, and
per-device preferences that decide which updates are queued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.fakes.push_service import FakePushService
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.push import push_sender, vapid
from webapp.models import Follow, NotificationOutbox, PushSubscription
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


@pytest.fixture
def keys():
    """A browser's subscription on a (not running) local push service."""
    return FakePushService(base_url="http://127.0.0.1:9").subscription()



def subscriptions():
    """Every stored subscription."""
    return db.session.scalars(select(PushSubscription)).all()


def test_public_key_is_the_vapid_key_as_base64url(client):
    body = client.get("/api/v1/push/public-key").get_json()
    key = body["data"]["public_key"]
    assert key == push_sender.public_key()
    assert len(vapid.b64url_decode(key)) == 65 and vapid.b64url_decode(key)[0] == 4


def test_subscribing_needs_the_anti_forgery_header(client, keys):
    response = client.post("/api/v1/push/subscriptions", json=keys.as_json())
    assert response.status_code == 400
    assert subscriptions() == []


def test_anonymous_browser_subscription_is_stored_for_its_device(client, keys):
    response = client.post("/api/v1/push/subscriptions", json=keys.as_json(), headers=WRITE)
    assert response.status_code == 201
    token = response.headers["X-Device-Token"]
    [stored] = subscriptions()
    assert (stored.endpoint, stored.p256dh, stored.auth) == (keys.endpoint, keys.p256dh, keys.auth)
    assert stored.device_id is not None and stored.user_id is None

    again = client.post(
        "/api/v1/push/subscriptions",
        json=keys.as_json(),
        headers={**WRITE, "X-Device-Token": token},
    )
    assert again.status_code == 200
    assert len(subscriptions()) == 1


def test_signed_in_subscription_belongs_to_the_account(client, auth, keys):
    user = auth.login("resident")
    response = client.post("/api/v1/push/subscriptions", json=keys.as_json(), headers=WRITE)
    assert response.status_code == 201
    [stored] = subscriptions()
    assert stored.user_id == user.id


def test_subscribing_from_a_request_page_follows_that_request(client, city, keys):
    service_request = factories.gen_request("graffiti")
    client.get(f"/requests/{service_request.public_id}")  # the page offers this browser a device
    body = {**keys.as_json(), "request": service_request.public_id}
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 201
    assert response.get_json()["data"]["following"] == service_request.public_id
    [follow] = db.session.scalars(select(Follow)).all()
    assert follow.device_id == subscriptions()[0].device_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.com/abc"}, "endpoint"),
        ({"endpoint": "ftp://127.0.0.1/abc"}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": "x" * 22}}, "p256dh"),
        ({"keys": {"p256dh": None, "auth": "x" * 22}}, "p256dh"),
        ({"keys": "nope"}, "keys"),
    ],
)
def test_unusable_subscriptions_are_refused_with_the_field(client, keys, change, field):
    body = {**keys.as_json(), **change}
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == field
    assert subscriptions() == []


def test_auth_secret_must_be_16_bytes(client, keys):
    body = keys.as_json()
    body["keys"]["auth"] = vapid.b64url(b"short")
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "auth"


def test_only_the_owner_can_delete_a_subscription(app, client, keys):
    created = client.post("/api/v1/push/subscriptions", json=keys.as_json(), headers=WRITE)
    token = created.headers["X-Device-Token"]
    stranger = app.test_client()
    refused = stranger.delete(
        "/api/v1/push/subscriptions", json={"endpoint": keys.endpoint}, headers=WRITE
    )
    assert refused.get_json()["data"]["deleted"] is False
    assert len(subscriptions()) == 1

    deleted = client.delete(
        "/api/v1/push/subscriptions",
        json={"endpoint": keys.endpoint},
        headers={**WRITE, "X-Device-Token": token},
    )
    assert deleted.status_code == 200 and deleted.get_json()["data"]["deleted"] is True
    assert subscriptions() == []


def test_preferences_default_off_and_are_saved_per_device(client):
    assert client.get("/api/v1/push/preferences").get_json()["data"]["preferences"] == {
        "acknowledged": False,
        "in_progress": False,
        "reopened": False,
        "merged": False,
    }
    saved = client.put(
        "/api/v1/push/preferences", json={"preferences": {"in_progress": True}}, headers=WRITE
    )
    assert saved.status_code == 200
    token = saved.headers["X-Device-Token"]
    again = client.get("/api/v1/push/preferences", headers={"X-Device-Token": token})
    assert again.get_json()["data"]["preferences"]["in_progress"] is True


@pytest.mark.parametrize(
    "preferences", [{"closed": False}, {"in_progress": "yes"}, ["acknowledged"]]
)
def test_bad_preferences_are_refused(client, preferences):
    response = client.put(
        "/api/v1/push/preferences", json={"preferences": preferences}, headers=WRITE
    )
    assert response.status_code in (400, 422)


def test_optional_updates_are_queued_only_for_devices_that_asked(app, client, city, keys):
    staff = factories.gen_user("staff")
    service_request = factories.gen_request("graffiti")
    client.get(f"/requests/{service_request.public_id}")  # the page offers this browser a device
    body = {**keys.as_json(), "request": service_request.public_id}
    token = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE).headers[
        "X-Device-Token"
    ]

    requests_domain.transition(service_request, "acknowledged", staff)
    db.session.commit()
    assert db.session.scalars(select(NotificationOutbox)).all() == []

    client.put(
        "/api/v1/push/preferences",
        json={"preferences": {"in_progress": True}},
        headers={**WRITE, "X-Device-Token": token},
    )
    requests_domain.transition(service_request, "in_progress", staff, note="Crew booked")
    requests_domain.transition(service_request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    rows = db.session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)).all()
    assert [(r.urgency, r.payload["notification"]["body"]) for r in rows] == [
        ("low", "Crew booked"),
        ("normal", "Done"),
    ]
    assert all(len(str(r.payload).encode()) < 1024 for r in rows)


def test_push_routes_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/push/subscriptions"]) == {"post", "delete"}
    assert set(paths["/api/v1/push/preferences"]) == {"get", "put"}
