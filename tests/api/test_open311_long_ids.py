"""A city's whole backlog in one ``GET requests?service_request_id=…`` (FixMyStreet's
status sync): served in full, under the README's real gunicorn set-up too, and every
refusal in the Open311 error shape."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from sqlalchemy import insert

from tests import factories
from tests.api.test_open311 import BASE, FORMATS, error_of, requests_of
from webapp.models import GeocodeState, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = 3000


def _backlog(count: int) -> list[str]:
    """``count`` open graffiti requests, inserted in one statement (fast), and their ids."""
    city = factories.gen_city()
    now = utcnow()
    ids = [f"311-{n:06d}" for n in range(1, count + 1)]
    db.session.execute(
        insert(ServiceRequest),
        [
            {
                "public_id": public_id,
                "service_id": city["graffiti"].id,
                "description": "Backlog item",
                "lat": 35.045,
                "long": -85.31,
                "needs_location": False,
                "geocode_state": GeocodeState.NOT_NEEDED,
                "status": "open",
                "detailed_status": "submitted",
                "received_at": now,
                "updated_at": now,
            }
            for public_id in ids
        ],
    )
    db.session.commit()
    return ids


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_backlog_of_thousands_of_ids_is_answered_in_full(client, app, fmt):
    ids = _backlog(BACKLOG)
    response = client.get(f"{BASE}/requests.{fmt}?service_request_id={','.join(ids)}")
    found = requests_of(response, fmt)
    assert sorted(r["service_request_id"] for r in found) == ids


@pytest.mark.parametrize("fmt", FORMATS)
def test_more_ids_than_the_setting_allows_is_a_spec_shaped_400(make_app, fmt):
    app = make_app(OPEN311_MAX_IDS=50)
    with app.app_context():
        ids = ",".join(f"311-{n:06d}" for n in range(51))
        response = app.test_client().get(f"{BASE}/requests.{fmt}?service_request_id={ids}")
        assert "at most 50 service_request_id" in error_of(response, 400, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["requests", "servicerequestupdates", "services"])
def test_a_query_longer_than_the_setting_is_a_spec_shaped_414(make_app, fmt, path):
    app = make_app(OPEN311_MAX_QUERY_BYTES=1000)
    with app.app_context():
        ids = ",".join(f"311-{n:06d}" for n in range(200))
        response = app.test_client().get(f"{BASE}/{path}.{fmt}?service_request_id={ids}")
        assert "longer than 1000 bytes" in error_of(response, 414, fmt)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(database_url: str, tmp_path: Path, *config: str):
    """Start the README's gunicorn command on a free port; returns (process, base URL)."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BACKGROUND_WORKER": "off",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "RATELIMIT_ENABLED": "false",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        *config,
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "webapp:create_app()",
    ]
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/open311/v2/discovery.json", timeout=10)
            return process, base
        except requests.RequestException:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode()) from None
            time.sleep(0.2)
    process.kill()
    raise AssertionError("gunicorn did not start")


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stderr.close()


def test_the_shipped_gunicorn_config_serves_the_whole_backlog(app, tmp_path):
    ids = _backlog(BACKLOG)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    query = f"/open311/v2/requests.xml?service_request_id={','.join(ids)}"
    assert len(query) > 8190  # above anything gunicorn allows unless the limit is lifted

    empty = tmp_path / "empty.conf.py"
    empty.write_text("")
    bare, bare_base = _gunicorn(url, tmp_path, "-c", str(empty))
    try:
        refused = requests.get(bare_base + query, timeout=30)
    finally:
        _stop(bare)
    assert refused.status_code == 414  # what the README's old command did

    served, base = _gunicorn(url, tmp_path, "-c", str(ROOT / "gunicorn.conf.py"))
    try:
        response = requests.get(base + query, timeout=60)
        too_long = requests.get(
            base + "/open311/v2/requests.json?service_request_id=" + "311-000001," * 60_000,
            timeout=60,
        )
    finally:
        _stop(served)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    assert sorted(r.findtext("service_request_id") for r in root) == ids
    assert too_long.status_code == 414
    assert too_long.json()[0]["code"] == 414
