"""The stack floor for the map read: bare Flask + sqlite3 doing the app's work by hand.

Served by ``bench_served.py`` under the same gunicorn settings as the real app. It answers
``/api/v1/requests?bbox=…&page_size=…`` with the same body as the app's anonymous map
read, built the obvious way:

- the freshness maxima for the ``ETag`` and ``Last-Modified`` (two indexed maxima);
- the page: the same columns, joins, filter and order (newest first), timestamps
  formatted by SQLite as the app's are;
- the page's photos in one more query;
- the total counted up to 1,000 + 1 when the page is full;
- plain dicts with the same keys and values (status labels from a table the benchmark
  computed with the app once, URLs from the same templates), encoded by Flask's own
  ``jsonify`` (the standard library), or with ``FLOOR_JSON=orjson`` by orjson with
  sorted keys, the encoder the app uses.

The floor on Flask's own JSON is the bare stack as it comes (the target's baseline). The
floor on orjson encodes as the app does, so the app ÷ that floor is what the app's layers
cost on top of the same rows: routing, input checks, sessions, access, negotiation,
logging and headers. ``bench_served.py`` checks that the bodies are equal before timing
anything.

One connection per worker process (per thread under threaded workers), opened on its
first request and kept, as the app's pool keeps its connections: sqlite3 for a database
file, psycopg for a PostgreSQL address. Reads ``FLOOR_DB`` (the database file, or a
``postgresql://`` address with its ``options``) and ``FLOOR_LABELS`` (JSON
``[[detailed_status, resolution, reopened, label], …]``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime

import orjson
from flask import Flask, jsonify, request

POSTGRES = os.environ.get("FLOOR_DB", "").startswith("postgresql://")
ORJSON = os.environ.get("FLOOR_JSON") == "orjson"

app = Flask(__name__)
COUNT_CAP = 1000
MARK = "%s" if POSTGRES else "?"


def w3c(column: str) -> str:
    """A stored UTC time as W3C text, formatted by the database as the app's are."""
    if POSTGRES:
        return f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
    return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {column})"


PAGE = f"""
SELECT r.id, r.public_id AS id_, s.service_code, s.name AS service_name, r.description,
       r.status, r.detailed_status, r.resolution, r.resolution_note, r.referred_to,
       r.reopened, r.lat, r.long, r.needs_location, r.address, r.landmark,
       n.name AS neighborhood, d.name AS agency_responsible, r.attribute_values,
       r.supporters_count, dup.public_id AS duplicate_of, r.channel,
       {w3c('r.received_at')} AS requested_datetime,
       {w3c('r.updated_at')} AS updated_datetime,
       {w3c('r.expected_at')} AS expected_datetime,
       {w3c('r.closed_at')} AS closed_datetime
FROM service_requests r
JOIN services s ON s.id = r.service_id
LEFT JOIN neighborhoods n ON n.id = r.neighborhood_id
LEFT JOIN departments d ON d.id = r.department_id
LEFT JOIN service_requests dup ON dup.id = r.duplicate_of_id
WHERE s.public AND r.lat BETWEEN {MARK} AND {MARK} AND r.long BETWEEN {MARK} AND {MARK}
ORDER BY r.received_at DESC, r.id DESC
LIMIT {MARK} OFFSET {MARK}
"""
COUNT = f"""
SELECT count(*) FROM (
  SELECT r.id FROM service_requests r JOIN services s ON s.id = r.service_id
  WHERE s.public AND r.lat BETWEEN {MARK} AND {MARK} AND r.long BETWEEN {MARK} AND {MARK}
  LIMIT {MARK}
) AS page
"""
PHOTOS = """
SELECT request_id, kind, width, height, display_key, thumb_key FROM photos
WHERE request_id IN ({marks}) ORDER BY id
"""
FRESHNESS = "SELECT max(updated_at), max(id) FROM service_requests"
LABELS = {
    (status, resolution, bool(reopened)): label
    for status, resolution, reopened, label in json.loads(os.environ.get("FLOOR_LABELS", "[]"))
}
_local = threading.local()


def connection():
    """This worker's connection, opened on its first request and kept."""
    found = getattr(_local, "db", None)
    if found is None:
        if POSTGRES:
            import psycopg

            found = psycopg.connect(os.environ["FLOOR_DB"], autocommit=True)
        else:
            found = sqlite3.connect(os.environ["FLOOR_DB"])
        _local.db = found
    return found


def photo(row) -> dict:
    """One photo in the public shape."""
    _request_id, kind, width, height, display_key, thumb_key = row
    return {
        "kind": kind,
        "width": width,
        "height": height,
        "url": f"/photos/{display_key}",
        "thumbnail_url": f"/photos/{thumb_key}",
    }


def request_row(row, photos: list) -> dict:
    """One request in the public shape."""
    (_row_id, public_id, service_code, service_name, description, status, detailed_status,
     resolution, resolution_note, referred_to, reopened, lat, long, needs_location, address,
     landmark, neighborhood, agency, attributes, supporters, duplicate_of, channel,
     requested, updated, expected, closed) = row  # fmt: skip
    return {
        "id": public_id,
        "service_code": service_code,
        "service_name": service_name,
        "description": description,
        "status": status,
        "detailed_status": detailed_status,
        "resolution": resolution,
        "resolution_note": resolution_note,
        "referred_to": referred_to,
        "reopened": bool(reopened),
        "lat": lat,
        "long": long,
        "needs_location": bool(needs_location),
        "address": address,
        "landmark": landmark,
        "neighborhood": neighborhood,
        "agency_responsible": agency,
        # psycopg hands a JSON column over decoded; sqlite3 hands over its text.
        "attributes": (json.loads(attributes) if isinstance(attributes, str) else attributes)
        or {},
        "supporters_count": supporters,
        "duplicate_of": duplicate_of,
        "channel": channel,
        "requested_datetime": requested,
        "updated_datetime": updated,
        "expected_datetime": expected,
        "closed_datetime": closed,
        "status_label": LABELS.get((detailed_status, resolution, bool(reopened)), status),
        "url": f"/requests/{public_id}",
        "photos": [photo(p) for p in photos],
    }


@app.get("/api/v1/requests")
def requests_in_box():
    """The newest public requests in the box, in the app's envelope, with its validators."""
    min_lon, min_lat, max_lon, max_lat = (float(p) for p in request.args["bbox"].split(","))
    size = int(request.args.get("page_size", 50))
    number = int(request.args.get("page", 1))
    db = connection()
    newest, top_id = db.execute(FRESHNESS).fetchone()
    box = (min_lat, max_lat, min_lon, max_lon)
    rows = db.execute(PAGE, (*box, size, (number - 1) * size)).fetchall()
    photos: dict[int, list] = {}
    if rows:
        marks = ",".join([MARK] * len(rows))
        for found in db.execute(PHOTOS.format(marks=marks), [r[0] for r in rows]):
            photos.setdefault(found[0], []).append(found)
    if number == 1 and len(rows) < size:
        total, exact = len(rows), True
    else:
        total = db.execute(COUNT, (*box, COUNT_CAP + 1)).fetchone()[0]
        exact = total <= COUNT_CAP
        total = min(total, COUNT_CAP)
        seen = (number - 1) * size + len(rows)
        if not exact and seen >= total:
            total = seen
    next_after = None
    if len(rows) == size:
        next_after = f"r{rows[-1][0]}"
    meta = {
        "page": number,
        "page_size": size,
        "total": total,
        "pages": max(1, (total + size - 1) // size) if total else 0,
        "total_is_exact": exact,
        "next_after": next_after,
    }
    body = {"data": [request_row(r, photos.get(r[0], ())) for r in rows], "meta": meta}
    if ORJSON:
        response = app.response_class(
            orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n", mimetype="application/json"
        )
    else:
        response = jsonify(body)
    digest = hashlib.sha256(f"{newest}|{top_id}".encode()).hexdigest()[:16]
    response.set_etag(hashlib.sha256(f"{digest}|{request.full_path}".encode()).hexdigest()[:24])
    if newest:
        moment = datetime.fromisoformat(newest) if isinstance(newest, str) else newest
        response.last_modified = moment.replace(tzinfo=UTC)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response
