"""Benchmark: ``GET /open311/v2/requests.json`` returning 1,000 of 100,000 seeded requests.

Seeds a temporary SQLite file (and the PostgreSQL database ``test_open311`` when one
answers; ``BENCH_DATABASE_URL`` picks another, and its schema is dropped and rebuilt)
with 100,000 requests over the last year, their timeline events, public notes and
photos, by bulk insert (SQLite is left without ANALYZE statistics, as a fresh install
is; PostgreSQL gets the VACUUM ANALYZE its autovacuum would run). Then times, through the Flask test client:

* the real endpoint (column SELECT + one query per lookup for the whole page), and
* the baseline from the same run: the naive ORM path that loads ``ServiceRequest``
  objects and lazy-loads service, department, events and photos row by row.

Prints the median milliseconds of each, their ratio, and the 150 ms target.
Run: ``.venv/bin/python bench/bench_open311.py`` (``BENCH_RUNS`` sets the repetitions;
``BENCH_POSTGRES=0`` skips PostgreSQL).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.access import public  # noqa: E402
from webapp.config import TestingConfig  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import (  # noqa: E402
    Department,
    Photo,
    RequestEvent,
    Service,
    ServiceRequest,
    utcnow,
)

REQUESTS = 100_000
CHUNK = 5_000
RESULTS = 1_000
TARGET_MS = 150.0
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_open311"
)
SERVICES = ["pothole", "graffiti", "streetlight", "trash", "sidewalk", "tree"]


def _settings(url: str, upload_dir: str) -> dict:
    """Testing settings pointed at ``url``."""
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=upload_dir, INSTANCE_DIR=upload_dir)
    return settings


def naive_requests_json():
    """The baseline: ORM objects, relationships lazy-loaded for every row (N+1)."""
    since = utcnow() - timedelta(days=90)
    rows = db.session.scalars(
        select(ServiceRequest)
        .join(Service)
        .where(Service.public.is_(True), ServiceRequest.received_at >= since)
        .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
        .limit(RESULTS)
    ).all()
    body = []
    for row in rows:
        notes = [e.note for e in row.events if e.public and e.note and e.kind != "created"]
        photo = next((p for p in row.photos if p.kind == "report"), None)
        body.append(
            {
                "service_request_id": row.public_id,
                "status": row.status,
                "status_notes": notes[-1] if notes else row.resolution_note,
                "service_name": row.service.name,
                "service_code": row.service.service_code,
                "description": row.description,
                "agency_responsible": row.department.name if row.department else None,
                "requested_datetime": row.received_at.isoformat(timespec="seconds"),
                "updated_datetime": row.updated_at.isoformat(timespec="seconds"),
                "expected_datetime": row.expected_at.isoformat(timespec="seconds")
                if row.expected_at
                else None,
                "address": row.address,
                "zipcode": row.zipcode,
                "lat": row.lat,
                "long": row.long,
                "media_url": f"/photos/{photo.display_key}" if photo else None,
            }
        )
    return app_response(body)


def app_response(body):
    """A JSON response like the real endpoint's."""
    from flask import Response

    return Response(json.dumps(body), content_type="application/json; charset=utf-8")


def build(url: str, upload_dir: str):
    """An app on ``url`` with the schema migrated and the baseline route added."""
    from flask_migrate import upgrade

    app = create_app(_settings(url, upload_dir))
    app.add_url_rule("/bench/naive.json", view_func=public(naive_requests_json))
    with app.app_context():
        upgrade()
    return app


def seed(app) -> None:
    """Bulk-insert 100,000 requests over the last year with events, notes and photos."""
    with app.app_context():
        department = Department(name="Public Works")
        db.session.add(department)
        db.session.flush()
        services = []
        for code in SERVICES:
            service = Service(
                service_code=code,
                name=code.title(),
                description="",
                group="Streets",
                sla_days=7,
                department_id=department.id,
            )
            db.session.add(service)
            services.append(service)
        db.session.flush()
        now = utcnow()
        next_event = 1
        for start in range(0, REQUESTS, CHUNK):
            requests, events, photos = [], [], []
            for i in range(start, min(start + CHUNK, REQUESTS)):
                number = i + 1
                received = now - timedelta(seconds=(REQUESTS - i) * 315)
                closed = number % 3 == 0
                requests.append(
                    {
                        "id": number,
                        "public_id": f"311-{number:06d}",
                        "service_id": services[number % len(services)].id,
                        "description": f"Report number {number} near the corner",
                        "lat": 35.0 + (number % 1000) / 10_000,
                        "long": -85.35 + (number % 997) / 10_000,
                        "address": f"{number % 900 + 100} Market St",
                        "zipcode": "37402",
                        "status": "closed" if closed else "open",
                        "detailed_status": "closed" if closed else "submitted",
                        "resolution": "fixed" if closed else None,
                        "resolution_note": "Fixed." if closed else None,
                        "department_id": department.id,
                        "channel": "pwa",
                        "attribute_values": {},
                        "received_at": received,
                        "updated_at": received,
                        "expected_at": received + timedelta(days=7),
                        "closed_at": received if closed else None,
                    }
                )
                events.append(
                    {
                        "id": next_event,
                        "request_id": number,
                        "kind": "created",
                        "to_status": "submitted",
                        "note": None,
                        "public": True,
                        "data": {},
                        "created_at": received,
                    }
                )
                next_event += 1
                if closed or number % 5 == 0:
                    events.append(
                        {
                            "id": next_event,
                            "request_id": number,
                            "kind": "status_changed" if closed else "public_note",
                            "to_status": "closed" if closed else None,
                            "note": "Fixed." if closed else "Crew scheduled.",
                            "public": True,
                            "data": {},
                            "created_at": received,
                        }
                    )
                    next_event += 1
                if number % 10 == 0:
                    photos.append(
                        {
                            "request_id": number,
                            "kind": "report",
                            "sha256": f"{number:064d}",
                            "width": 1600,
                            "height": 1200,
                            "display_key": f"00/00/{number:064d}-display.jpg",
                            "thumb_key": f"00/00/{number:064d}-thumb.jpg",
                            "created_at": received,
                        }
                    )
            connection = db.session.connection()
            connection.execute(insert(ServiceRequest.__table__), requests)
            connection.execute(insert(RequestEvent.__table__), events)
            connection.execute(insert(Photo.__table__), photos)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("service_requests", "request_events", "photos"):
                db.session.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()


def median_ms(client, path: str) -> float:
    """Median wall time of ``RUNS`` GETs of ``path`` (after two warm-ups)."""
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        body = response.get_json()
        assert len(body) == RESULTS, len(body)
        assert any(item["status_notes"] for item in body), "seeded notes are missing"
        assert any(item["media_url"] for item in body), "seeded photos are missing"
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def measure(label: str, url: str, upload_dir: str) -> tuple[str, float, float]:
    """Seed, then time the endpoint and the baseline on one backend."""
    app = build(url, upload_dir)
    started = time.perf_counter()
    seed(app)
    print(f"{label}: seeded {REQUESTS:,} requests in {time.perf_counter() - started:.1f} s")
    with app.app_context():
        client = app.test_client()
        fast = median_ms(client, "/open311/v2/requests.json")
        slow = median_ms(client, "/bench/naive.json")
        db.session.remove()
        db.engine.dispose()
    return label, fast, slow


def postgres_reachable(url: str) -> bool:
    """True when the PostgreSQL server in ``url`` answers."""
    try:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        print(f"PostgreSQL skipped: {type(error).__name__}")
        return False


def main() -> None:
    """Run on SQLite and (when reachable) PostgreSQL, then print the table."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("SQLite", f"sqlite:///{tmp}/bench.db", tmp))
        host_ok = True
        try:
            socket.create_connection(("127.0.0.1", 5432), 1).close()
        except OSError:
            host_ok = False
        if os.environ.get("BENCH_POSTGRES", "1") == "0":
            host_ok = False
        if host_ok and postgres_reachable(PG_URL):
            results.append(measure("PostgreSQL", PG_URL, tmp))
    print()
    print(
        f"GET /open311/v2/requests.json -> {RESULTS:,} of {REQUESTS:,} requests, median of {RUNS}"
    )
    print(f"{'backend':<12}{'endpoint ms':>14}{'baseline ms':>14}{'speed-up':>10}{'target':>10}")
    for label, fast, slow in results:
        verdict = "ok" if fast <= TARGET_MS else "MISSED"
        print(f"{label:<12}{fast:>14.1f}{slow:>14.1f}{slow / fast:>9.1f}x{verdict:>10}")
    print("baseline: naive ORM path, relationships lazy-loaded per row (N+1)")


if __name__ == "__main__":
    main()
