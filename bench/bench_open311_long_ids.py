"""Benchmark: a whole backlog in one ``GET requests.xml?service_request_id=…`` under
gunicorn with the shipped ``gunicorn.conf.py`` (FixMyStreet's status sync).

Seeds a temporary SQLite file with ``BENCH_IDS`` open requests (default 20,000, the
``OPEN311_MAX_IDS`` default) by bulk insert, starts gunicorn (one worker) on it, then
times:

* one call listing every id (XML and JSON), and
* the baseline from the same run: the same ids in calls of 300, the most that passed
  the README's old gunicorn set-up (4,094-byte request line).

Prints the request-line length, the median seconds of each and their ratio.
Run: ``.venv/bin/python bench/bench_open311_long_ids.py`` (``BENCH_IDS``, ``BENCH_RUNS``).
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.models import GeocodeState, Service, ServiceRequest, utcnow  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

IDS = int(os.environ.get("BENCH_IDS", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
OLD_BATCH = 300


def seed(url: str) -> list[str]:
    """Migrate a fresh database and insert ``IDS`` open requests."""
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        service = Service(service_code="graffiti", name="Graffiti")
        db.session.add(service)
        db.session.flush()
        now = utcnow()
        ids = [f"311-{n:06d}" for n in range(1, IDS + 1)]
        db.session.execute(
            insert(ServiceRequest),
            [
                {
                    "public_id": public_id,
                    "service_id": service.id,
                    "description": "Backlog",
                    "lat": 35.04,
                    "long": -85.3,
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
        db.engine.dispose()
    return ids


def start_gunicorn(url: str, folder: str) -> tuple[subprocess.Popen, str]:
    """gunicorn -c gunicorn.conf.py on a free port, waiting until it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BACKGROUND_WORKER": "off",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1",
        "INSTANCE_DIR": folder,
        "RATELIMIT_ENABLED": "false",
    }
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--workers",
         "1", "--bind", f"127.0.0.1:{port}", "webapp:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/open311/v2"
    for _ in range(150):
        try:
            requests.get(f"{base}/discovery.json", timeout=5)
            return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def timed(call) -> float:
    """Median seconds of ``RUNS`` calls."""
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    """Seed, serve, measure, print."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        ids = seed(url)
        process, base = start_gunicorn(url, folder)
        try:
            joined = ",".join(ids)

            def one_call(fmt: str) -> None:
                response = requests.get(
                    f"{base}/requests.{fmt}", params={"service_request_id": joined}, timeout=300
                )
                assert response.status_code == 200, response.text[:200]
                assert response.content.count(b"<service_request_id>" if fmt == "xml" else b'"service_request_id"') == IDS

            def batches() -> None:
                for start in range(0, IDS, OLD_BATCH):
                    response = requests.get(
                        f"{base}/requests.xml",
                        params={"service_request_id": ",".join(ids[start : start + OLD_BATCH])},
                        timeout=60,
                    )
                    assert response.status_code == 200

            line = len(f"GET /open311/v2/requests.xml?service_request_id={joined} HTTP/1.1")
            xml = timed(lambda: one_call("xml"))
            json_ = timed(lambda: one_call("json"))
            baseline = timed(batches)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"ids: {IDS:,}   request line: {line:,} bytes")
    print(f"{'one call, XML':<28}{xml:>8.2f} s")
    print(f"{'one call, JSON':<28}{json_:>8.2f} s")
    print(f"{'baseline: calls of 300 (XML)':<28}{baseline:>8.2f} s")
    print(f"{'ratio one call / baseline':<28}{xml / baseline:>8.2f}")


if __name__ == "__main__":
    main()
