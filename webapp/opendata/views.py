"""Public transparency: figures per service, and requests as CSV or GeoJSON.

The public export holds only public fields of public services; the staff export with
contact details lives in the staff console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context
from flask_babel import format_date

from webapp.access import public
from webapp.domain import exports, stats
from webapp.opendata import bp, charts


def month_start() -> datetime:
    """The first moment of this month in the city's time zone, as aware UTC."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


@bp.get("/stats")
@public
def stats_page():
    """How the city is doing, from the rollups: per service, per week, per channel."""
    window = stats.windows()
    weeks = stats.weekly(window.year_start, window.today)
    channels = stats.by_channel(window.year_start)
    week_labels = [format_date(w.start, "d MMM") for w in weeks]
    sla = [
        (label, None if w.within_sla_share is None else round(w.within_sla_share * 100))
        for label, w in zip(week_labels, weeks, strict=True)
    ]
    median = [(label, w.median_days_to_close) for label, w in zip(week_labels, weeks, strict=True)]
    return render_template(
        "opendata/stats.html",
        window=window,
        rows=stats.per_service(window.month_start, since=window.year_start),
        weeks=weeks,
        week_labels=week_labels,
        sla_bars=charts.column_bars(sla, top=100),
        median_bars=charts.column_bars(median),
        channel_bars=charts.row_bars(channels),
        channels=channels,
        chart=charts,
    )


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
