"""Benchmark: ``GET /open311/v2/requests.json`` (1,000 newest) at several sizes, in one run.

    .venv/bin/python bench/bench_open311.py [--sizes 10000,100000] [--runs 15]
                                            [--pg URL] [--no-sqlite] [--no-pg]

For each size a fresh database (a SQLite file; a PostgreSQL schema ``bench_open311`` in
``bench``, made again per size and dropped at the end) is migrated and given
that many requests spread over the last year, with their timeline events (a public note
on every fifth, a closing note on every third) and a report photo on every tenth, by
bulk insert (SQLite is left without ANALYZE statistics, as a fresh install is;
PostgreSQL gets the VACUUM ANALYZE its autovacuum would run). Then, through the Flask
test client, median ms of ``--runs`` GETs of:

* ours: the real endpoint (one column SELECT on the requests, services and departments
  read once as lookups, one query each for the page's notes and photos, entries built
  with the translations and names looked up once per answer);
* the baseline, the obvious SQL for the same answer (``/bench/obvious.json``): one
  SELECT of the request columns joined to service and department, public services,
  last 90 days, ``ORDER BY received_at DESC, id DESC LIMIT 1000``; one query for the
  page's public notes, one for its report photos; entries built row by row and dumped
  with ``json.dumps``.

Both answers are checked to be the same JSON before timing. Target: ours ≤ 150 ms.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sized  # noqa: E402
from flask import Response, url_for  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.models import (  # noqa: E402
    Department,
    Photo,
    PhotoKind,
    RequestEvent,
    Service,
    ServiceRequest,
    utcnow,
    w3c,
)
from webapp.open311.queries import NOTE_KINDS  # noqa: E402
from webapp.plumbing.access import public  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

SCHEMA = "bench_open311"
CHUNK = 5_000
RESULTS = 1_000
TARGET_MS = 150.0
SERVICES = ["pothole", "graffiti", "streetlight", "trash", "sidewalk", "tree"]
YEAR_S = 365 * 24 * 3600


def obvious_requests_json():
    """The baseline: the obvious SQL for the same answer, written out plainly.

    One SELECT of the request columns joined to its service and department, public
    services only, last 90 days, newest first, LIMIT 1,000; one query for the public
    notes of those requests and one for their report photos; each entry built as a
    dict row by row (names, notice and URLs looked up per row) and dumped as JSON.
    """
    since = utcnow() - timedelta(days=90)
    rows = db.session.execute(
        select(
            ServiceRequest.id,
            ServiceRequest.public_id,
            ServiceRequest.status,
            ServiceRequest.resolution_note,
            ServiceRequest.description,
            ServiceRequest.received_at,
            ServiceRequest.updated_at,
            ServiceRequest.expected_at,
            ServiceRequest.address,
            ServiceRequest.zipcode,
            ServiceRequest.lat,
            ServiceRequest.long,
            Service.name.label("service_name"),
            Service.service_code,
            Department.name.label("department_name"),
        )
        .join(Service, Service.id == ServiceRequest.service_id)
        .outerjoin(Department, Department.id == ServiceRequest.department_id)
        .where(Service.public.is_(True), ServiceRequest.received_at >= since)
        .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
        .limit(RESULTS)
    ).all()
    ids = [row.id for row in rows]
    notes = {}
    for request_id, note in db.session.execute(
        select(RequestEvent.request_id, RequestEvent.note)
        .where(
            RequestEvent.request_id.in_(ids),
            RequestEvent.public.is_(True),
            RequestEvent.note.is_not(None),
            RequestEvent.kind.in_(NOTE_KINDS),
        )
        .order_by(RequestEvent.id)
    ):
        notes[request_id] = note
    photos = {}
    for request_id, display_key in db.session.execute(
        select(Photo.request_id, Photo.display_key)
        .where(Photo.request_id.in_(ids), Photo.kind == PhotoKind.REPORT)
        .order_by(Photo.id)
    ):
        photos.setdefault(request_id, display_key)
    body = []
    for row in rows:
        notice = None
        if row.status == "open" and row.expected_at:
            notice = _("The city aims to deal with this by %(date)s.",
                       date=row.expected_at.date().isoformat())
        photo = photos.get(row.id)
        body.append(
            {
                "service_request_id": row.public_id,
                "status": row.status,
                "status_notes": notes.get(row.id, row.resolution_note),
                "service_name": row.service_name,
                "service_code": row.service_code,
                "description": row.description,
                "agency_responsible": row.department_name,
                "service_notice": notice,
                "requested_datetime": w3c(row.received_at),
                "updated_datetime": w3c(row.updated_at),
                "expected_datetime": w3c(row.expected_at),
                "address": row.address,
                "address_id": None,
                "zipcode": row.zipcode,
                "lat": row.lat,
                "long": row.long,
                "media_url": url_for("resident.photo", key=photo, _external=True)
                if photo
                else None,
            }
        )
    return Response(json.dumps(body), content_type="application/json; charset=utf-8")


def build(settings: dict):
    """An app on ``settings`` with the schema migrated and the baseline route added."""
    from flask_migrate import upgrade

    app = create_app(settings)
    app.add_url_rule("/bench/obvious.json", view_func=public(obvious_requests_json))
    with app.app_context():
        upgrade()
    return app


def seed(app, size: int) -> None:
    """Bulk-insert ``size`` requests over the last year with events, notes and photos."""
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
        for start in range(0, size, CHUNK):
            requests, events, photos = [], [], []
            for i in range(start, min(start + CHUNK, size)):
                number = i + 1
                received = now - timedelta(seconds=(size - i) * YEAR_S / size)
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


def answer(client, path: str) -> list:
    """The JSON list ``path`` answers, checked to be a full page with notes and photos."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert len(body) == RESULTS, f"{len(body)} in 90 days: sizes under 4,100 fill no page"
    assert any(item["status_notes"] for item in body), "seeded notes are missing"
    assert any(item["media_url"] for item in body), "seeded photos are missing"
    return body


def measure(label: str, args, size: int) -> list[tuple]:
    """Seed one fresh database with ``size`` requests, then time ours and the baseline."""
    with sized.backend(label, args, SCHEMA, "open311") as settings:
        app = build(settings)
        seed(app, size)
        with app.app_context():
            client = app.test_client()
            ours, theirs = "/open311/v2/requests.json", "/bench/obvious.json"
            assert answer(client, ours) == answer(client, theirs), "the answers differ"

            def get(path):
                return lambda _: client.get(path).get_data()

            fast = sized.median_ms(get(ours), args.runs, db.session.remove)
            slow = sized.median_ms(get(theirs), args.runs, db.session.remove)
            db.session.remove()
            db.engine.dispose()
    print(f"[{label}] {size:,}: endpoint {fast:.1f} ms, obvious SQL {slow:.1f} ms", flush=True)
    return [(label, size, f"requests.json, {RESULTS:,} newest", fast, slow)]


def main() -> None:
    """Run every backend and size asked for, then print the table."""
    args = sized.parser(__doc__.splitlines()[0]).parse_args()
    rows = []
    for label in sized.labels(args):
        for size in sized.sizes(args):
            rows += measure(label, args, size)
    sized.print_table(
        f"GET /open311/v2/requests.json, median of {args.runs}", rows, TARGET_MS,
        "Baseline: one SELECT with the joins and LIMIT 1000, one query for notes, one for "
        "photos, entries built row by row.",
    )


if __name__ == "__main__":
    main()
