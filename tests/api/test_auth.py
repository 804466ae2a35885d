"""Accounts: sign up, sign in, sign out, generic errors, rate limits, CSRF, claiming."""

import re

from tests import factories
from webapp.domain.people import devices
from webapp.models import ServiceRequest, User
from webapp.plumbing.extensions import db


def test_resident_signs_up_and_lands_on_my_requests(client, city):
    response = client.post("/auth/sign-up", data={
        "display_name": "Dana", "email": "Dana@Example.com", "password": "a long password",
        "confirm": "a long password"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my")
    user = db.session.scalars(db.select(User)).one()
    assert user.email == "dana@example.com"
    assert user.role == "resident"
    assert user.password_hash.startswith("scrypt:")


def test_sign_up_refuses_a_short_password_with_a_message(client, city):
    response = client.post("/auth/sign-up", data={
        "display_name": "Dana", "email": "dana@example.com", "password": "short",
        "confirm": "short"})
    assert response.status_code == 200
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client, city):
    user = factories.gen_user("resident")
    db.session.commit()
    wrong = client.post("/auth/sign-in", data={"email": user.email, "password": "nope nope nope"})
    unknown = client.post("/auth/sign-in", data={"email": "who@example.com",
                                                 "password": "nope nope nope"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "do not match an account" in response.get_data(as_text=True)


def test_sign_in_ignores_an_offsite_next(client, city):
    user = factories.gen_user("resident")
    db.session.commit()
    response = client.post("/auth/sign-in?next=https://evil.example/",
                           data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/my"


def test_staff_land_on_the_queue_and_can_sign_out(client, city, auth):
    auth.login("staff")
    assert client.get("/staff/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/staff/").status_code == 302


def test_pages_redirect_browsers_and_answer_api_callers_with_json(client, city, auth):
    response = client.get("/staff/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    api_like = client.get("/staff/", headers={"Accept": "application/json"})
    assert api_like.status_code == 401 and api_like.get_json()["error"]["status"] == 401
    auth.login("resident")
    assert client.get("/staff/").status_code == 403


def test_sign_in_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNIN="3 per minute")
    client = app.test_client()
    statuses = [client.post("/auth/sign-in", data={"email": "a@example.com",
                                                   "password": "x" * 12}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_forms_need_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        factories.gen_city()
        user = factories.gen_user("resident")
        db.session.commit()
        email = user.email
    refused = client.post("/auth/sign-in", data={"email": email, "password": factories.PASSWORD})
    assert refused.status_code == 400
    page = client.get("/auth/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/auth/sign-in", data={"email": email, "password": factories.PASSWORD,
                                                  "csrf_token": token})
    assert accepted.status_code == 302


def test_signing_in_claims_the_devices_anonymous_requests(client, city):
    token, device = devices.create()
    db.session.commit()
    request = factories.gen_request("graffiti", device=device)
    user = factories.gen_user("resident")
    db.session.commit()
    client.set_cookie("civic_device", token)
    client.post("/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD})
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).requester_id == user.id


def test_security_headers_are_on_every_response(client, city):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, city, auth):
    user = factories.gen_user("resident")
    db.session.commit()
    response = client.post("/auth/sign-in", data={"email": user.email,
                                                  "password": factories.PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_writes_need_the_anti_forgery_header(client, city):
    response = client.post("/api/v1/requests", headers={
        "Idempotency-Key": "0b7d8a52-2c1e-4f55-9c57-3f7f5d2b9a10"}, data={})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "X-Requested-With"


def test_passwords_in_service_use_scrypt_at_full_strength(app):
    """The suite's cheap work factor is read only while testing: an app in service hashes
    with werkzeug's scrypt at n=32768, and a hash made cheaply still checks."""
    from webapp.domain.people import accounts

    assert accounts.password_method() == "scrypt:1024:8:1"
    user = factories.gen_user("resident")
    assert user.password_hash.startswith("scrypt:1024:8:1$")
    assert accounts.authenticate(user.email, factories.PASSWORD) == user
    assert accounts.authenticate(user.email, "not the password at all") is None
    app.testing = False
    try:
        assert accounts.password_method() == accounts.PASSWORD_METHOD == "scrypt"
        accounts.set_password(user, "a brand new passphrase 2026")
        assert user.password_hash.startswith("scrypt:32768:8:1$")
    finally:
        app.testing = True
