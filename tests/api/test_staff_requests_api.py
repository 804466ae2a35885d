"""POST /api/v1/staff/requests: desk software logs a caller's request by the app's rules."""

import uuid

import pytest
from sqlalchemy import select

from tests import factories
from tests.fakes.smtp import SMTPServer
from webapp.domain.notifications.email import email_channel, mail_queue
from webapp.models import Contact, NotificationOutbox, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
CALLER = {
    "caller_name": "Pat Caller",
    "caller_email": "Pat@Example.org",
    "caller_phone": "423-555-0142",
    "caller_address": "9 Oak St",
}


def pothole(**extra):
    """A valid pothole call."""
    return {
        "channel": "phone",
        "service_code": "pothole",
        "lat": factories.INSIDE[0],
        "long": factories.INSIDE[1],
        "attributes": {"size": "large"},
        "description": "Caller says it is deep",
        **CALLER,
        **extra,
    }


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1."""
    server = SMTPServer().start()
    yield server
    server.stop()


def test_staff_log_a_phone_call_with_a_private_contact(client, auth, city):
    staff = auth.login("staff")
    response = client.post("/api/v1/staff/requests", json=pothole(), headers=WRITE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["data"]
    assert body["contact_phone"] == "423-555-0142" and body["contact_email"] == "pat@example.org"
    assert response.headers["Location"] == f"/api/v1/requests/{body['id']}"
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert (stored.channel, stored.logged_by_id) == ("phone", staff.id)
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.channel, contact.handler_id, contact.caller_address) == (
        "phone",
        staff.id,
        "9 Oak St",
    )
    public = client.get(f"/api/v1/requests/{body['id']}").get_data(as_text=True)
    assert "555-0142" not in public and "pat@example.org" not in public.lower()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"channel": "pwa"}, 422, "channel"),
        ({"channel": ""}, 422, "channel"),
        ({"service_code": "nope"}, 404, "service_code"),
        ({"attributes": {}}, 422, "attribute[size]"),
        ({"lat": "north"}, 422, "lat"),
        ({"lat": None, "long": None}, 422, "location"),
        ({"attributes": "x"}, 422, "attributes"),
        ({"caller_email": "not an address"}, 422, "caller_email"),
        ({"confirm_by_email": True, "caller_email": ""}, 422, "caller_email"),
    ],
)
def test_the_app_rules_refuse_bad_input(client, auth, city, change, status, field):
    auth.login("staff")
    response = client.post("/api/v1/staff/requests", json=pothole(**change), headers=WRITE)
    assert response.status_code == status
    assert response.get_json()["error"]["details"]["field"] == field
    assert db.session.scalars(select(ServiceRequest)).first() is None


def test_residents_and_strangers_are_refused(client, auth, city):
    assert client.post("/api/v1/staff/requests", json=pothole(), headers=WRITE).status_code == 401
    auth.login("resident")
    assert client.post("/api/v1/staff/requests", json=pothole(), headers=WRITE).status_code == 403


def test_a_retried_call_with_the_same_key_is_not_a_second_request(client, auth, city):
    auth.login("staff")
    key = str(uuid.uuid4())
    headers = {**WRITE, "Idempotency-Key": key}
    first = client.post("/api/v1/staff/requests", json=pothole(), headers=headers)
    again = client.post("/api/v1/staff/requests", json=pothole(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]


def test_a_caller_who_wants_it_gets_an_email_confirmation(make_app, smtp):
    app = make_app(**smtp.settings(), PUBLIC_URL="https://311.testville.example")
    with app.app_context():
        factories.gen_city()
        client = app.test_client()
        staff = factories.gen_user("staff")
        db.session.commit()
        client.post("/auth/sign-in", data={"email": staff.email, "password": factories.PASSWORD})
        response = client.post(
            "/api/v1/staff/requests", json=pothole(confirm_by_email="1"), headers=WRITE
        )
        assert response.status_code == 201
        number = response.get_json()["data"]["id"]
        assert email_channel.deliver_due() == 1  # through the notification outbox
    [message] = smtp.inbox.wait_for(1)
    assert message["To"] == "pat@example.org"
    assert number in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert f"https://311.testville.example/requests/{number}" in text
    assert number in message["Message-ID"]


def test_a_caller_gets_one_confirmation_and_only_when_asked(client, auth, city):
    auth.login("staff")
    client.post("/api/v1/staff/requests", json=pothole(), headers=WRITE)
    client.post("/api/v1/staff/requests", json=pothole(confirm_by_email="1"), headers=WRITE)
    rows = db.session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.channel == mail_queue.EMAIL)
    ).all()
    asked = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()[1]
    assert [(row.kind, row.request_id) for row in rows] == [(mail_queue.CONFIRMATION, asked.id)]
