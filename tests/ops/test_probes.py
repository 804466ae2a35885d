"""Probes for a load balancer, and errors that keep their shape while the database is down."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.ops.outage import BreakableDatabase
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


@pytest.fixture
def outage(make_app, database_backend, tmp_path):
    breakable = BreakableDatabase(make_app, database_backend, tmp_path)
    yield breakable
    breakable.close()


def test_healthz_answers_without_a_session_cookie_or_the_database(outage):
    app = outage.build()
    client = app.test_client()
    outage.stop()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_turns_503_naming_the_database_when_it_stops_and_200_when_it_is_back(outage):
    app = outage.build()
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "photo_storage": "ok",
    }
    assert "Set-Cookie" not in ready.headers

    outage.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    body = down.get_json()
    assert body["status"] == "not ready"
    assert body["failing"] == ["database", "migrations"]
    assert body["checks"]["database"].startswith("OperationalError")

    outage.start()
    back = client.get("/readyz")
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["failing"] == []


def test_readyz_waits_for_migrations_at_the_code_s_head(app, client):
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    db.session.commit()
    try:
        body = client.get("/readyz").get_json()
    finally:  # PostgreSQL's test database is shared by the next tests
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        db.session.commit()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == f"database at 0013, code expects {head}"


def test_readyz_names_redis_and_photo_storage_when_they_fail(make_app, tmp_path):
    closed = _closed_port()
    not_a_folder = tmp_path / "uploads-is-a-file"
    not_a_folder.write_text("x")
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{closed}/0", UPLOAD_DIR=str(not_a_folder))
    with app.app_context():
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["redis", "photo_storage"]
    assert body["checks"]["redis"].startswith("ConnectionError")


def test_probes_are_never_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per hour")
    with app.app_context():
        client = app.test_client()
        probes = {client.get(path).status_code for path in ("/healthz", "/readyz") * 10}
        limited = [client.get("/api/v1/services").status_code for _ in range(5)]
    assert probes == {200}
    assert limited[-1] == 429  # the same limit does hold elsewhere


def test_api_error_keeps_its_json_shape_and_language_while_the_database_is_down(outage):
    app = outage.build()
    client = app.test_client()
    with app.app_context():
        device_token = client.get("/").headers.get("Set-Cookie", "")
    assert "civic_device" in device_token
    outage.stop()
    client.set_cookie("civic_lang", "es")
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "7d3c5d1e-0000-4000-8000-000000000001",
                 "X-Request-ID": "phone-outbox-retry-1"},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31"},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["X-Request-ID"] == "phone-outbox-retry-1"
    error = response.get_json()["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == 503 and error["code"] == "service_unavailable"
    assert error["message"].startswith("El servicio no está disponible")

    open311 = client.get("/open311/v2/requests.json")
    assert open311.status_code == 503
    assert open311.get_json()[0]["code"] == 503

    page = client.get("/my", headers={"Accept": "text/html"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert page.headers["X-Request-ID"] in html

    # /metrics still answers: the outage is counted and the database reported down.
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.get_data(as_text=True))
        for sample in family.samples
    }
    assert found[("civic311_database_up", ())] == 0
    assert found[("civic311_unhandled_errors_total",
                  (("group", "api"), ("kind", "database_unreachable")))] >= 1

    outage.start()
    assert client.get("/readyz").status_code == 200


def test_a_signed_in_staff_member_gets_the_error_page_while_the_database_is_down(outage):
    from tests import factories

    app = outage.build()
    client = app.test_client()
    with app.app_context():
        factories.gen_city()
        user = factories.gen_user("staff")
        db.session.commit()
        email = user.email
    with app.app_context():
        signed_in = client.post(
            "/auth/sign-in", data={"email": email, "password": factories.PASSWORD}
        )
        assert signed_in.status_code == 302
    outage.stop()
    page = client.get("/staff/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "unavailable for a moment" in page.get_data(as_text=True)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
