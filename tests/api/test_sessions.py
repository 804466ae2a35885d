"""Sessions and shared phones: revocable sign-in, a fresh device after sign-out,
passwords that are not on every attacker's list, and throttling per account."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests import factories
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.domain.people import accounts
from webapp.models import ServiceRequest, User
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


def _sign_in(client, user) -> None:
    response = client.post(
        "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_a_session_cookie_copied_before_sign_out_stops_working(app, client, city):
    staff = factories.gen_user("staff")
    db.session.commit()
    _sign_in(client, staff)
    copied = client.get_cookie("session").value
    assert client.get("/staff/").status_code == 200
    client.post("/auth/sign-out")

    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/staff/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_a_signed_out_page_view_leaves_the_session_cookie_alone(make_app):
    """Background page fetches must not send back a cookie that could undo a sign-in."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        factories.gen_city()
        db.session.commit()
    first = client.get("/auth/sign-in")  # the form puts a token in the session
    assert any(c.startswith("session=") for c in first.headers.getlist("Set-Cookie"))
    for path in ("/", "/my", "/help", "/auth/sign-in"):
        again = client.get(path)
        assert again.status_code == 200, path
        assert not any(
            c.startswith("session=") for c in again.headers.getlist("Set-Cookie")
        ), path


def test_a_signed_in_session_moved_to_another_browser_is_refused(app, client, city):
    """Strong protection still guards sessions that carry a sign-in."""
    staff = factories.gen_user("staff")
    db.session.commit()
    _sign_in(client, staff)
    copied = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", copied)
    response = other.get("/staff/", headers={"User-Agent": "Another browser/1.0"})
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_signing_in_again_after_sign_out_works(client, city):
    resident = factories.gen_user("resident")
    db.session.commit()
    _sign_in(client, resident)
    client.post("/auth/sign-out")
    _sign_in(client, resident)
    assert client.get("/my").status_code == 200
    assert "Sign out" in client.get("/my").get_data(as_text=True)


def test_changing_the_password_signs_out_everywhere(app, city):
    staff = factories.gen_user("staff")
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    _sign_in(laptop, staff)
    _sign_in(phone, staff)
    accounts.set_password(staff, "a brand new passphrase here")
    db.session.commit()
    assert laptop.get("/staff/").status_code == 302
    assert phone.get("/staff/").status_code == 302
    assert accounts.authenticate(staff.email, "a brand new passphrase here") is not None


def test_a_tampered_session_id_loads_nobody(app, client, city):
    from webapp.plumbing.sessions import load_user

    staff = factories.gen_user("staff")
    db.session.commit()
    assert load_user(staff.get_id()) is not None
    for value in (str(staff.id), f"{staff.id}:", f"{staff.id}:9", "9" * 30 + ":0", "١:٠", ""):
        assert load_user(value) is None


def _submit(client, description: str, headers: dict | None = None):
    return client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4()), **(headers or {})},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
              "description": description},
    )


def test_on_a_shared_phone_the_next_person_sees_nothing_of_the_last(app, client, city):
    staff = factories.gen_user("staff")
    resident = factories.gen_user("resident")
    db.session.commit()
    sent = _submit(client, "A's pothole before signing in")
    old_token = sent.headers["X-Device-Token"]
    public_id = sent.get_json()["data"]["id"]
    _sign_in(client, resident)
    assert db.session.get(ServiceRequest, 1).requester_id == resident.id
    signed_out = client.post("/auth/sign-out")
    new_token = client.get_cookie("civic_device").value
    assert new_token != old_token
    assert "civic_device=" in signed_out.headers.get("Set-Cookie", "")

    service_request = requests_domain.get_by_public_id(public_id)
    workflow.transition(service_request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()

    # B, on the same browser, with the app still sending A's old token from its storage
    for headers in ({}, {"X-Device-Token": old_token}):
        page = client.get("/my", headers=headers).get_data(as_text=True)
        assert public_id not in page
        client.post(f"/requests/{public_id}/reopen", data={"comment": "not fixed"},
                    headers=headers)
        db.session.expire_all()
        assert requests_domain.get_by_public_id(public_id).is_closed
    _sign_in(client, resident)
    assert public_id in client.get("/my").get_data(as_text=True)


def test_a_stale_device_token_is_replaced_by_the_live_one(client, city):
    resident = factories.gen_user("resident")
    db.session.commit()
    old_token = _submit(client, "before").headers["X-Device-Token"]
    _sign_in(client, resident)
    client.post("/auth/sign-out")
    live = client.get_cookie("civic_device").value
    response = _submit(client, "after", headers={"X-Device-Token": old_token})
    assert response.status_code == 201
    assert response.headers["X-Device-Token"] == live
    stored = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert stored.requester_id is None and stored.device.user_id is None


def test_a_request_sent_while_signed_in_is_not_the_devices_after_sign_out(client, city):
    resident = factories.gen_user("resident")
    db.session.commit()
    _submit(client, "make a device")
    _sign_in(client, resident)
    public_id = _submit(client, "signed in").get_json()["data"]["id"]
    client.post("/auth/sign-out")
    assert public_id not in client.get("/my").get_data(as_text=True)


@pytest.mark.parametrize(
    "password",
    ["password12", "aaaaaaaaaa", "qwertyuiop", "1234567890", "iloveyou123", "Welcome1234",
     "dana@example.com", "danadanadana"],
)
def test_sign_up_refuses_common_and_guessable_passwords_clearly(client, city, password):
    response = client.post("/auth/sign-up", data={
        "display_name": "Dana", "email": "dana@example.com", "password": password,
        "confirm": password})
    assert response.status_code == 200
    assert "too common or too easy to guess" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_a_passphrase_is_accepted(client, city):
    response = client.post("/auth/sign-up", data={
        "display_name": "Dana", "email": "dana@example.com",
        "password": "lamp river biscuit", "confirm": "lamp river biscuit"})
    assert response.status_code == 302


def test_the_password_rule_holds_for_every_way_in():
    with pytest.raises(DomainError) as refused:
        accounts.check_password("password12")
    assert refused.value.field == "password"
    accounts.check_password("zyqravantol")  # not guessable in itself…
    with pytest.raises(DomainError):  # …but it is to anyone who knows the person
        accounts.check_password("zyqravantol", email="zyqra@vantol.example",
                                display_name="Zyqra Vantol")
    accounts.check_password("correct horse battery")


def _try(client, email: str, password: str, address: str):
    return client.post("/auth/sign-in", data={"email": email, "password": password},
                       headers={"X-Forwarded-For": address})


def test_failed_sign_ins_are_throttled_per_account_from_any_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNIN="100 per minute",
                   RATELIMIT_SIGNIN_ACCOUNT="3 per hour", TRUSTED_PROXIES=1)
    with app.app_context():
        factories.gen_city()
        user = factories.gen_user("resident")
        db.session.commit()
        email = user.email
    client = app.test_client()
    assert _try(client, email, factories.PASSWORD, "203.0.113.1").status_code == 302
    wrong = [_try(client, email, "wrong guess 1234", f"198.51.100.{n}") for n in range(4)]
    assert [r.status_code for r in wrong] == [200, 200, 200, 429]
    assert "do not match an account" in wrong[0].get_data(as_text=True)
    assert _try(client, "Other@Example.com", "wrong guess 1234", "198.51.100.9").status_code == 200
    unknown = [_try(client, "nobody@example.com", "x" * 12, "192.0.2.1") for _ in range(4)]
    assert [r.status_code for r in unknown] == [200, 200, 200, 429]
