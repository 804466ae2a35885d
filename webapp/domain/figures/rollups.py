"""Rollups behind the public figures (per day, month and ISO week), kept right as
requests change.

Every flush that creates, changes or deletes a request moves the rollups by the
difference between what the request counted for before and what it counts for now
(its "footprint"): received on its arrival day, closed (within the SLA or not, and
how long it took) on its close day, reopened. So create, close, reopen, merge, a
re-categorisation or a corrected close date all land in the same place, in the same
transaction as the change itself. Each difference is written at every grain: the
day (any window stays answerable), the month (the 1st names it) and the ISO week (its
Monday), so /stats reads twelve months and 53 weeks of rows however long the city's
history is.

Bulk loads that bypass the ORM (``COPY``, ``executemany`` in benchmarks, imports)
call ``rebuild()`` afterwards, which recomputes every rollup from the requests (and
the map's grid cell counts, see ``map_grid``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from webapp.domain.figures import flushed_requests, map_grid, upserts
from webapp.models import (
    CloseDurationMonthRollup,
    CloseDurationRollup,
    CloseDurationWeekRollup,
    RequestMonthRollup,
    RequestRollup,
    RequestWeekRollup,
    ServiceRequest,
    Status,
)
from webapp.plumbing.extensions import db

HALF_DAY_SECONDS = 12 * 3600
MAX_HALF_DAYS = 2 * 730
FIELDS = (
    "service_id",
    "channel",
    "received_at",
    "closed_at",
    "expected_at",
    "detailed_status",
    "reopen_count",
)


def city_zone() -> ZoneInfo:
    """The city's time zone (days and months are the city's, not UTC's)."""
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "UTC"
    return ZoneInfo(name)


def city_day(moment: datetime, zone: ZoneInfo) -> date:
    """The city's calendar day of an aware moment."""
    return moment.astimezone(zone).date()


def half_days(received_at: datetime, closed_at: datetime) -> int:
    """How long a request took to close, in whole half-days (capped at two years)."""
    seconds = max((closed_at - received_at).total_seconds(), 0)
    return min(int(seconds // HALF_DAY_SECONDS), MAX_HALF_DAYS)


def footprint(values: dict, zone: ZoneInfo) -> Counter:
    """What one request counts for in the rollups, as {(table, key..., column): n}."""
    found: Counter = Counter()
    service_id, channel, received_at = (
        values["service_id"],
        values["channel"],
        values["received_at"],
    )
    if service_id is None or received_at is None:
        return found
    channel = channel or ""
    arrived = city_day(received_at, zone)
    found[("r", arrived, service_id, channel, "received")] += 1
    if values["reopen_count"]:
        found[("r", arrived, service_id, channel, "reopened")] += 1
    closed_at = values["closed_at"]
    if values["detailed_status"] == Status.CLOSED and closed_at is not None:
        closed_day = city_day(closed_at, zone)
        found[("r", closed_day, service_id, channel, "closed")] += 1
        expected = values["expected_at"]
        if expected is not None:
            found[("r", closed_day, service_id, channel, "closed_with_sla")] += 1
            if closed_at <= expected:
                found[("r", closed_day, service_id, channel, "closed_on_time")] += 1
        found[("d", closed_day, service_id, half_days(received_at, closed_at), "count")] += 1
    return found


@dataclass(frozen=True)
class Grain:
    """One rollup table: the period a day falls in, and whether it keeps the detail
    (the channel of a count, the half-day bucket of a histogram)."""

    model: type
    keys: tuple[str, ...]
    period: Callable[[date], date]

    def key(self, day: date, service_id: int, detail) -> tuple:
        """The table's key for a footprint entry."""
        found = (self.period(day), service_id, detail)
        return found[: len(self.keys)]


def month_of(day: date) -> date:
    """The month a day is in, named by its 1st."""
    return day.replace(day=1)


def week_of(day: date) -> date:
    """The ISO week a day is in, named by its Monday."""
    return day - timedelta(days=day.weekday())


def _same_day(day: date) -> date:
    return day


COUNTS = ("received", "reopened", "closed", "closed_with_sla", "closed_on_time")
# The daily tables keep any window answerable; the month and week tables are what
# /stats reads (twelve months, 53 weeks), so its cost does not grow with history.
COUNT_GRAINS = (
    Grain(RequestRollup, ("day", "service_id", "channel"), _same_day),
    Grain(RequestMonthRollup, ("month", "service_id", "channel"), month_of),
    Grain(RequestWeekRollup, ("week", "service_id"), week_of),
)
HISTOGRAM_GRAINS = (
    Grain(CloseDurationRollup, ("day", "service_id", "half_days"), _same_day),
    Grain(CloseDurationMonthRollup, ("month", "service_id", "half_days"), month_of),
    Grain(CloseDurationWeekRollup, ("week", "service_id", "half_days"), week_of),
)
GRAINS = COUNT_GRAINS + HISTOGRAM_GRAINS


def spread(change: Counter) -> dict[tuple[Grain, tuple], Counter]:
    """A footprint (difference) as rows of every grain: {(grain, key): {column: n}}."""
    rows: dict[tuple[Grain, tuple], Counter] = defaultdict(Counter)
    for (kind, day, service_id, detail, column), amount in change.items():
        if not amount:
            continue
        for grain in COUNT_GRAINS if kind == "r" else HISTOGRAM_GRAINS:
            rows[(grain, grain.key(day, service_id, detail))][column] += amount
    return rows


_STATEMENTS: dict[Grain, object] = {}


def _statement(grain: Grain):
    found = _STATEMENTS.get(grain)
    if found is None:
        found = _STATEMENTS[grain] = upserts.statement(grain.model.__table__, grain.keys)
    return found


def apply(connection, change: Counter) -> None:
    """Add a footprint difference to the rollup tables: one statement per table, run
    with every row it touches (usually one).

    Rows are written in a fixed order (table, then key) so two concurrent flushes
    touching the same rows lock them in the same order.
    """
    rows = spread(change)
    per_grain: dict[Grain, list[dict]] = {}
    for grain, key in sorted(rows, key=lambda item: (GRAINS.index(item[0]), item[1])):
        amounts = rows[(grain, key)]
        if not any(amounts.values()):
            continue
        sums = COUNTS if grain in COUNT_GRAINS else ("count",)
        row = dict(zip(grain.keys, key, strict=True))
        row.update((column, amounts.get(column, 0)) for column in sums)
        per_grain.setdefault(grain, []).append(row)
    for grain, values in per_grain.items():
        connection.execute(_statement(grain), values)


def _after_flush(session: Session, _context) -> None:
    """Move the rollups by what this flush changed in requests."""
    zone = None
    change: Counter = Counter()
    for _request, before, now in flushed_requests.changes(session, FIELDS):
        zone = zone or city_zone()
        if now is not None:
            change.update(footprint(now, zone))
        if before is not None:
            change.subtract(footprint(before, zone))
    if change:
        apply(session.connection(), change)


def listen() -> None:
    """Keep rollups in step with every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def rebuild() -> int:
    """Recompute every rollup from the requests (after bulk loads); returns requests read.

    The daily rows are counted from the requests (in SQL on PostgreSQL, which knows
    the city's time zone; request by request through ``footprint`` on SQLite), then
    the month and week rows are summed from the daily ones, as migration 0013 did.
    """
    zone = city_zone()
    connection = db.session.connection()
    for grain in GRAINS:
        connection.execute(delete(grain.model))
    if connection.dialect.name == "postgresql":
        count = _count_days_in_sql(connection, zone)
    else:
        count = _count_days_one_by_one(connection, zone)
    sum_months_and_weeks(connection)
    map_grid.rebuild(connection)
    db.session.commit()
    return count


def _count_days_one_by_one(connection, zone: ZoneInfo) -> int:
    totals: Counter = Counter()
    count = 0
    columns = [getattr(ServiceRequest, name) for name in FIELDS]
    for row in connection.execute(select(*columns)).yield_per(10_000):
        values = dict(zip(FIELDS, row, strict=True))
        for name in ("received_at", "closed_at", "expected_at"):
            if values[name] is not None and values[name].tzinfo is None:
                values[name] = values[name].replace(tzinfo=UTC)
        totals.update(footprint(values, zone))
        count += 1
    per_table: dict[Grain, list[dict]] = defaultdict(list)
    for (grain, key), amounts in spread(totals).items():
        if grain.period is not _same_day:
            continue
        table = grain.model.__table__
        row = {c.name: 0 for c in table.columns if c.name not in grain.keys}
        row.update(zip(grain.keys, key, strict=True), **amounts)
        per_table[grain].append(row)
    for grain, rows in per_table.items():
        connection.execute(grain.model.__table__.insert(), rows)
    return count


# The same footprint as ``footprint()``, request times being naive UTC in the table.
_DAYS_SQL = """
INSERT INTO request_rollups (day, service_id, channel, received, reopened, closed,
                             closed_with_sla, closed_on_time)
SELECT day, service_id, channel, sum(received), sum(reopened), sum(closed),
       sum(with_sla), sum(on_time)
FROM (
    SELECT CAST(received_at AT TIME ZONE 'UTC' AT TIME ZONE :zone AS DATE) AS day,
           service_id, coalesce(channel, '') AS channel, 1 AS received,
           CASE WHEN reopen_count <> 0 THEN 1 ELSE 0 END AS reopened,
           0 AS closed, 0 AS with_sla, 0 AS on_time
    FROM service_requests WHERE service_id IS NOT NULL AND received_at IS NOT NULL
    UNION ALL
    SELECT CAST(closed_at AT TIME ZONE 'UTC' AT TIME ZONE :zone AS DATE),
           service_id, coalesce(channel, ''), 0, 0, 1,
           CASE WHEN expected_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN closed_at <= expected_at THEN 1 ELSE 0 END
    FROM service_requests
    WHERE service_id IS NOT NULL AND received_at IS NOT NULL
      AND detailed_status = 'closed' AND closed_at IS NOT NULL
) AS footprints
GROUP BY day, service_id, channel
"""
_HISTOGRAM_SQL = """
INSERT INTO close_duration_rollups (day, service_id, half_days, count)
SELECT CAST(closed_at AT TIME ZONE 'UTC' AT TIME ZONE :zone AS DATE), service_id,
       LEAST(CAST(floor(GREATEST(extract(epoch FROM closed_at - received_at), 0)
                        / :half_day) AS INTEGER), :most),
       count(*)
FROM service_requests
WHERE service_id IS NOT NULL AND received_at IS NOT NULL
  AND detailed_status = 'closed' AND closed_at IS NOT NULL
GROUP BY 1, 2, 3
"""


def _count_days_in_sql(connection, zone: ZoneInfo) -> int:
    connection.execute(text(_DAYS_SQL), {"zone": zone.key})
    connection.execute(
        text(_HISTOGRAM_SQL),
        {"zone": zone.key, "half_day": HALF_DAY_SECONDS, "most": MAX_HALF_DAYS},
    )
    return connection.execute(select(func.count()).select_from(ServiceRequest)).scalar_one()


def sum_months_and_weeks(connection) -> None:
    """Fill the month and week rollups by summing the daily ones (which must be right)."""
    if connection.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS DATE)"
        week = "CAST(date_trunc('week', day) AS DATE)"
    else:
        # 'weekday 0' moves to the coming Sunday (or stays); six days back is Monday.
        month, week = "date(day, 'start of month')", "date(day, 'weekday 0', '-6 days')"
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    names = ", ".join(COUNTS)
    for statement in (
        f"INSERT INTO request_month_rollups (month, service_id, channel, {names}) "  # noqa: S608
        f"SELECT {month}, service_id, channel, {sums} FROM request_rollups "
        "GROUP BY 1, service_id, channel",
        f"INSERT INTO request_week_rollups (week, service_id, {names}) "  # noqa: S608
        f"SELECT {week}, service_id, {sums} FROM request_rollups GROUP BY 1, service_id",
        "INSERT INTO close_duration_month_rollups (month, service_id, half_days, count) "  # noqa: S608
        f"SELECT {month}, service_id, half_days, sum(count) FROM close_duration_rollups "
        "GROUP BY 1, service_id, half_days",
        "INSERT INTO close_duration_week_rollups (week, service_id, half_days, count) "  # noqa: S608
        f"SELECT {week}, service_id, half_days, sum(count) FROM close_duration_rollups "
        "GROUP BY 1, service_id, half_days",
    ):
        connection.execute(text(statement))
