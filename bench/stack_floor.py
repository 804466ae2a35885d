"""The stack floor for the map read: bare Flask + sqlite3 returning the same rows.

Served by ``bench_served.py`` under the same gunicorn as the real app. It answers
``/api/v1/requests?bbox=…&page_size=…`` with one hand-written SQL query (the same
columns, joins and order as the app's map read) and ``jsonify`` of plain dicts: what
any Flask endpoint returning these rows must at least cost. Reads ``FLOOR_DB``.
"""

from __future__ import annotations

import os
import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)
QUERY = """
SELECT r.public_id AS id, s.service_code, s.name AS service_name, r.description, r.status,
       r.detailed_status, r.resolution, r.resolution_note, r.referred_to, r.reopened,
       r.lat, r.long, r.address, r.landmark, n.name AS neighborhood,
       d.name AS agency_responsible, r.attribute_values, r.supporters_count,
       dup.public_id AS duplicate_of, r.channel, r.received_at AS requested_datetime,
       r.updated_at AS updated_datetime, r.expected_at AS expected_datetime,
       r.closed_at AS closed_datetime
FROM service_requests r
JOIN services s ON s.id = r.service_id
LEFT JOIN neighborhoods n ON n.id = r.neighborhood_id
LEFT JOIN departments d ON d.id = r.department_id
LEFT JOIN service_requests dup ON dup.id = r.duplicate_of_id
WHERE s.public = 1 AND r.lat BETWEEN ? AND ? AND r.long BETWEEN ? AND ?
ORDER BY r.received_at DESC, r.id DESC
LIMIT ?
"""


def connection() -> sqlite3.Connection:
    """One connection per worker process, opened on first use."""
    if "db" not in g:
        g.db = sqlite3.connect(os.environ["FLOOR_DB"])
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close(_exc) -> None:
    """Close the request's connection."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.get("/api/v1/requests")
def requests_in_box():
    """The newest requests in the box, as plain dicts in the usual envelope."""
    min_lon, min_lat, max_lon, max_lat = (float(p) for p in request.args["bbox"].split(","))
    size = int(request.args.get("page_size", 50))
    rows = connection().execute(QUERY, (min_lat, max_lat, min_lon, max_lon, size)).fetchall()
    return jsonify({"data": [dict(row) for row in rows], "meta": {"page_size": size}})
