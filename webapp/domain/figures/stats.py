"""Transparency figures, read from the month and week rollups (never from the requests).

Every figure is over a stated window of the city's calendar: "this month" (from the
1st) and "the last 12 months" (this month and the eleven before it), read from the
month rows; the week-by-week charts from the ISO-week rows. So reading them costs a
sum over at most 12 months or 53 weeks of rows per service (and channel, or half-day
bucket), whatever the number of requests or the length of the history. Medians come
from the half-day histogram of close times, so they are exact to half a day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from webapp.domain.figures.rollups import city_day, city_zone, week_of
from webapp.models import (
    CloseDurationMonthRollup,
    CloseDurationWeekRollup,
    RequestMonthRollup,
    RequestWeekRollup,
    Service,
    utcnow,
)
from webapp.plumbing.extensions import db

MONTHS_IN_YEAR_WINDOW = 12


@dataclass
class ServiceStats:
    """The public figures of one service."""

    service_code: str
    name: str
    this_month: int
    closed: int
    median_days_to_close: float | None
    within_sla_share: float | None
    reopened_share: float | None


@dataclass
class Week:
    """One week (Monday to Sunday) of the city's figures."""

    start: date
    received: int
    closed: int
    within_sla_share: float | None
    median_days_to_close: float | None


@dataclass
class Windows:
    """The stated windows, as the city's calendar days (inclusive)."""

    today: date
    month_start: date
    year_start: date


def _share(part: int | None, whole: int | None) -> float | None:
    return None if not whole else round((part or 0) / whole, 3)


def windows(now: datetime | None = None) -> Windows:
    """This month and the last 12 months, ending today in the city's time zone."""
    today = city_day(now or utcnow(), city_zone())
    month_start = today.replace(day=1)
    year, month = month_start.year, month_start.month - (MONTHS_IN_YEAR_WINDOW - 1)
    while month < 1:
        month += 12
        year -= 1
    return Windows(today, month_start, date(year, month, 1))


def median_from_histogram(counts: dict[int, int]) -> float | None:
    """The median close time in days from {half_days: count} (the lower middle)."""
    total = sum(counts.values())
    if not total:
        return None
    position = (total + 1) // 2
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= position:
            return bucket / 2
    return None


def per_service(month_start: datetime | date, since: date | None = None) -> list[ServiceStats]:
    """Figures for every public service, in name order.

    ``this_month`` counts requests received since ``month_start``; the other figures
    cover the last 12 months (or ``since``). Both are whole months: a day inside a
    month stands for that month's 1st.
    """
    if isinstance(month_start, datetime):
        month_start = city_day(month_start, city_zone())
    month_start = month_start.replace(day=1)
    since = (since or windows().year_start).replace(day=1)
    r = RequestMonthRollup
    totals = {
        row.service_id: row
        for row in db.session.execute(
            select(
                r.service_id,
                func.sum(r.received).label("received"),
                func.sum(r.reopened).label("reopened"),
                func.sum(r.closed).label("closed"),
                func.sum(r.closed_with_sla).label("with_sla"),
                func.sum(r.closed_on_time).label("on_time"),
            )
            .where(r.month >= since)
            .group_by(r.service_id)
        )
    }
    month = dict(
        db.session.execute(
            select(r.service_id, func.sum(r.received))
            .where(r.month >= month_start)
            .group_by(r.service_id)
        ).all()
    )
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    d = CloseDurationMonthRollup
    for service_id, bucket, count in db.session.execute(
        select(d.service_id, d.half_days, func.sum(d.count))
        .where(d.month >= since)
        .group_by(d.service_id, d.half_days)
    ):
        histograms[service_id][bucket] = int(count)
    services = db.session.execute(
        select(Service.id, Service.service_code, Service.name)
        .where(Service.public.is_(True))
        .order_by(Service.name)
    ).all()
    result = []
    for service_id, code, name in services:
        row = totals.get(service_id)
        result.append(
            ServiceStats(
                service_code=code,
                name=name,
                this_month=int(month.get(service_id) or 0),
                closed=int(row.closed or 0) if row else 0,
                median_days_to_close=median_from_histogram(histograms.get(service_id, {})),
                within_sla_share=_share(row.on_time, row.with_sla) if row else None,
                reopened_share=_share(row.reopened, row.received) if row else None,
            )
        )
    return result


def _public_ids():
    return select(Service.id).where(Service.public.is_(True))


def weekly(since: date, until: date) -> list[Week]:
    """The city's whole weeks (Monday to Sunday) from the one holding ``since`` to the
    one holding ``until``."""
    first, last = week_of(since), week_of(until)
    weeks: dict[date, dict] = {}
    day = first
    while day <= last:
        weeks[day] = {"received": 0, "closed": 0, "with_sla": 0, "on_time": 0, "hist": {}}
        day += timedelta(days=7)
    r = RequestWeekRollup
    for start, received, closed, with_sla, on_time in db.session.execute(
        select(
            r.week,
            func.sum(r.received),
            func.sum(r.closed),
            func.sum(r.closed_with_sla),
            func.sum(r.closed_on_time),
        )
        .where(r.week >= first, r.week <= last, r.service_id.in_(_public_ids()))
        .group_by(r.week)
    ):
        week = weeks[start]
        week["received"] += int(received or 0)
        week["closed"] += int(closed or 0)
        week["with_sla"] += int(with_sla or 0)
        week["on_time"] += int(on_time or 0)
    d = CloseDurationWeekRollup
    for start, bucket, count in db.session.execute(
        select(d.week, d.half_days, func.sum(d.count))
        .where(d.week >= first, d.week <= last, d.service_id.in_(_public_ids()))
        .group_by(d.week, d.half_days)
    ):
        hist = weeks[start]["hist"]
        hist[bucket] = hist.get(bucket, 0) + int(count)
    return [
        Week(
            start=start,
            received=values["received"],
            closed=values["closed"],
            within_sla_share=_share(values["on_time"], values["with_sla"]),
            median_days_to_close=median_from_histogram(values["hist"]),
        )
        for start, values in sorted(weeks.items())
    ]


def by_channel(since: date) -> list[tuple[str, int]]:
    """Requests received per channel since the month holding ``since``, biggest first."""
    r = RequestMonthRollup
    rows = db.session.execute(
        select(r.channel, func.sum(r.received))
        .where(r.month >= since.replace(day=1), r.service_id.in_(_public_ids()))
        .group_by(r.channel)
    ).all()
    return sorted(((channel, int(total or 0)) for channel, total in rows), key=lambda x: -x[1])
