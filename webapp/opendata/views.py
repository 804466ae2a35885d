"""Public transparency: the figures page, and the commands that publish the open data.

The downloads themselves are in ``export_views``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import (
    current_app,
    make_response,
    render_template,
)
from flask.cli import with_appcontext
from flask_babel import format_date
from sqlalchemy import select

from webapp.content_i18n import localized
from webapp.domain.figures import exports, rollups, stats
from webapp.models import Service
from webapp.opendata import charts
from webapp.opendata.blueprint import bp
from webapp.opendata.export_views import export_dir
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db
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


@click.command("export-open-data")
@with_appcontext
def export_open_data_command() -> None:
    """Publish the full public export files and the daily and monthly change files (run
    from cron, e.g. nightly)."""
    done = exports.publish(
        export_dir(),
        days=current_app.config["EXPORT_DAILY_CHANGES"],
        months=current_app.config["EXPORT_MONTHLY_CHANGES"],
    )
    for _kind, item in done.items():
        click.echo(f"{item.path}: {item.rows} rows")
    changes = exports.published_changes(export_dir())
    click.echo(f"{len(changes)} change periods (daily and monthly) beside them.")


@click.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups_command() -> None:
    """Recompute the /stats rollups and map grid counts from the requests (after a bulk load
    outside the app)."""
    click.echo(f"Rollups rebuilt from {rollups.rebuild()} requests.")
