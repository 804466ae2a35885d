"""Public transparency: figures per service, and requests as CSV or GeoJSON.

The public export holds only public fields of public services; the staff export with
contact details lives in the staff console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context
from sqlalchemy import select

from webapp.access import public
from webapp.content_i18n import localized
from webapp.domain import exports, stats
from webapp.extensions import db
from webapp.models import Service
from webapp.opendata import bp


def month_start() -> datetime:
    """The first moment of this month in the city's time zone, as aware UTC."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


@bp.get("/stats")
@public
def stats_page():
    """Per service: requests this month, median days to close, within SLA, reopened."""
    rows = stats.per_service(month_start())
    names = {s.service_code: localized(s, "name") for s in db.session.scalars(select(Service))}
    for row in rows:
        row.name = names.get(row.service_code, row.name)
    return render_template("opendata/stats.html", rows=rows)


@bp.get("/export/requests.<any(csv, geojson):kind>")
@public
def export(kind: str):
    """The public export (no contact details, no private notes, public services only)."""
    rows = exports.requests(False, service_code=request.args.get("service_code") or None)
    if kind == "csv":
        body, mimetype = exports.to_csv(rows, False), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_geojson(rows), "application/geo+json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="requests.{kind}"'
    return response
