"""Running behind a proxy in production: the secret key, trusted proxies, hosts and HSTS."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from flask_login.utils import _create_identifier

from tests import factories
from webapp.plumbing.config import Config
from webapp.plumbing.deployment import SECRET_KEY_FILE, InsecureConfiguration, weak_secret_key
from webapp.plumbing.extensions import db

OLD_DEFAULT_KEY = "dev-only-change-me"
AGENT = "Mozilla/5.0 (forger)"


def _forged_admin_cookie(app, key: str, admin) -> str:
    """A session cookie for ``admin`` signed with ``key``, as an attacker would make it."""
    with app.test_request_context(
        "/", headers={"User-Agent": AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = _create_identifier()
    forger = type("Forger", (), {"secret_key": key, "config": app.config})()
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": admin.get_id(), "_fresh": True, "_id": identifier})


def test_without_a_secret_key_one_is_generated_once_into_the_instance_folder(make_app, tmp_path):
    first = make_app(SECRET_KEY=Config.SECRET_KEY, TESTING=False, PUBLIC_URL="https://311.example")
    key = first.config["SECRET_KEY"]
    assert not weak_secret_key(key) and key != OLD_DEFAULT_KEY
    path = Path(first.config["INSTANCE_DIR"]) / SECRET_KEY_FILE
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = make_app(SECRET_KEY=Config.SECRET_KEY, TESTING=False, PUBLIC_URL="https://311.example")
    assert second.config["SECRET_KEY"] == key


def test_a_session_forged_with_the_old_default_key_is_not_an_admin(make_app):
    app = make_app(SECRET_KEY=Config.SECRET_KEY)
    with app.app_context():
        factories.gen_city()
        admin = factories.gen_user("admin")
        db.session.commit()
        cookie = _forged_admin_cookie(app, OLD_DEFAULT_KEY, admin)
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/admin/users", headers={"User-Agent": AGENT})
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("key", [OLD_DEFAULT_KEY, "changeme", "s3cr3t-but-short"])
def test_a_weak_key_refuses_to_start_in_production(make_app, key):
    with pytest.raises(InsecureConfiguration):
        make_app(SECRET_KEY=key, TESTING=False, DEBUG=False)


def test_a_weak_key_is_tolerated_while_testing_or_debugging(make_app):
    assert make_app(SECRET_KEY=OLD_DEFAULT_KEY, TESTING=True).config["SECRET_KEY"]
    assert make_app(SECRET_KEY=OLD_DEFAULT_KEY, TESTING=False, DEBUG=True).debug


def _sign_in_attempt(client, address: str):
    return client.post(
        "/auth/sign-in",
        data={"email": "a@example.com", "password": "x" * 12},
        headers={"X-Forwarded-For": address},
    )


def test_behind_a_trusted_proxy_each_resident_has_their_own_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNIN="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    first = [_sign_in_attempt(client, "203.0.113.5").status_code for _ in range(3)]
    other = _sign_in_attempt(client, "198.51.100.7").status_code
    assert first == [200, 200, 429]
    assert other == 200


def test_without_trusted_proxies_a_forwarded_address_is_ignored(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNIN="2 per minute")
    client = app.test_client()
    statuses = [_sign_in_attempt(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_behind_a_tls_proxy_urls_are_https_and_hsts_is_sent(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    with app.app_context():
        factories.gen_city()
        db.session.commit()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "311.city.example"}
    response = app.test_client().get("/open311/v2/discovery.json", headers=headers)
    assert response.status_code == 200
    urls = [e["url"] for e in response.get_json()["endpoints"]]
    assert urls and all(u.startswith("https://311.city.example/open311/v2") for u in urls)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client().get("/open311/v2/discovery.json")
    assert "Strict-Transport-Security" not in plain.headers


def test_forwarded_headers_from_an_untrusted_caller_change_nothing(make_app):
    app = make_app()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    response = app.test_client().get("/open311/v2/discovery.json", headers=headers)
    assert "evil.example" not in response.get_data(as_text=True)
    assert "Strict-Transport-Security" not in response.headers


def test_only_trusted_hosts_are_answered(make_app):
    app = make_app(TRUSTED_HOSTS=["311.city.example"])
    client = app.test_client()
    refused = client.get("/open311/v2/discovery.json", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "evil.example" not in refused.get_data(as_text=True)
    accepted = client.get("/open311/v2/discovery.json", headers={"Host": "311.city.example"})
    assert accepted.status_code == 200
    assert "http://311.city.example/open311/v2" in accepted.get_data(as_text=True)
