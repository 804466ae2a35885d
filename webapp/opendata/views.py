"""Public transparency: figures per service, and requests as CSV or GeoJSON.

The public export holds only public fields of public services; the staff export with
contact details lives in the staff console.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import (
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask.cli import with_appcontext
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.content_i18n import localized
from webapp.domain.figures import exports, rollups, stats
from webapp.models import Service
from webapp.opendata import charts
from webapp.opendata.blueprint import bp
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db
from webapp.plumbing.inputs import column_length, text_arg
from webapp.plumbing.sessions import current_account


def month_start() -> datetime:
    """The first moment of this month in the city's time zone, as aware UTC."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


STATS_FRESH_SECONDS = 60


def _figures() -> dict:
    """The /stats figures, recomputed from the rollups at most once a minute per process.

    The rollups make one computation cheap; keeping it for a minute makes a crowd of
    readers cost one computation, so /stats can never tie up the app's workers.
    """
    memo = current_app.extensions.setdefault("civic311_stats", {})
    if memo and time.monotonic() - memo["at"] < STATS_FRESH_SECONDS:
        return memo["figures"]
    window = stats.windows()
    figures = {
        "window": window,
        "rows": stats.per_service(window.month_start, since=window.year_start),
        "weeks": stats.weekly(window.year_start, window.today),
        "channels": stats.by_channel(window.year_start),
    }
    memo.update(at=time.monotonic(), figures=figures)
    return figures


@bp.get("/stats")
@public
def stats_page():
    """How the city is doing, from the rollups: per service, per week, per channel."""
    figures = _figures()
    weeks = figures["weeks"]
    week_labels = [format_date(w.start, "d MMM") for w in weeks]
    sla = [
        (label, None if w.within_sla_share is None else round(w.within_sla_share * 100))
        for label, w in zip(week_labels, weeks, strict=True)
    ]
    median = [(label, w.median_days_to_close) for label, w in zip(week_labels, weeks, strict=True)]
    response = make_response(
        render_template(
            "opendata/stats.html",
            window=figures["window"],
            rows=figures["rows"],
            service_names={
                s.service_code: localized(s, "name") for s in db.session.scalars(select(Service))
            },
            weeks=weeks,
            week_labels=week_labels,
            sla_bars=charts.column_bars(sla, top=100),
            median_bars=charts.column_bars(median),
            channel_bars=charts.row_bars(figures["channels"]),
            channels=figures["channels"],
            chart=charts,
        )
    )
    if current_account() is None:
        response.headers["Cache-Control"] = f"public, max-age={STATS_FRESH_SECONDS}"
        response.vary.add("Accept-Language")
    return response


MIMETYPES = {"csv": "text/csv", "geojson": "application/geo+json"}


def export_dir() -> Path:
    """Where the export job publishes its files."""
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def _updated_after() -> datetime | None:
    raw = request.args.get("updated_after")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        abort(400, _("updated_after must be an ISO 8601 date and time."))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/export/requests.<any(csv, geojson):kind>")
@public
def export(kind: str):
    """The public export (no contact details, no private notes, public services only).

    The full export is the job's published file, sent with its Content-Length (so a
    cut download is visibly short) and its row count; ``updated_after`` and
    ``service_code`` pulls are computed on the spot (they are small by design).
    """
    service_code = text_arg(
        request.args, "service_code", max_length=column_length(Service.service_code)
    )
    updated_after = _updated_after()
    filename = f'attachment; filename="requests.{kind}"'
    found = None if (service_code or updated_after) else exports.published(export_dir(), kind)
    if found is not None:
        path, entry = found
        response = send_file(path, mimetype=MIMETYPES[kind], conditional=True, etag=True)
        response.headers["X-Export-Rows"] = str(entry["rows"])
        response.headers["X-Export-Generated"] = entry["generated_at"]
        response.headers["Content-Disposition"] = filename
        return response
    rows = exports.requests(False, service_code=service_code, updated_after=updated_after)
    body = exports.to_csv(rows, False) if kind == "csv" else exports.to_geojson(rows)
    response = Response(stream_with_context(body), mimetype=MIMETYPES[kind])
    response.headers["Content-Disposition"] = filename
    return response


@bp.get("/export/requests-manifest.json")
@public
def export_manifest():
    """Row counts, sizes and checksums of the published export files (404 before the job)."""
    path = export_dir() / exports.MANIFEST
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/json", conditional=True, etag=True)


@click.command("export-open-data")
@with_appcontext
def export_open_data_command() -> None:
    """Publish the full public export files (run from cron, e.g. nightly)."""
    done = exports.publish(export_dir())
    for _kind, item in done.items():
        click.echo(f"{item.path}: {item.rows} rows")


@click.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups_command() -> None:
    """Recompute the /stats rollups and map grid counts from the requests (after a bulk load
    outside the app)."""
    click.echo(f"Rollups rebuilt from {rollups.rebuild()} requests.")
