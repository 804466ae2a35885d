"""Transparency figures per service: volume this month, speed, SLA keeping, reopen rate.

Counts and shares are computed in SQL with one GROUP BY. The median needs ordered
values: PostgreSQL computes it with ``percentile_cont``; on SQLite the close
durations of each service are read and the median is taken in Python.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from webapp.extensions import db
from webapp.models import Service, ServiceRequest, Status

SECONDS_PER_DAY = 86_400


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


def _share(part: int | None, whole: int | None) -> float | None:
    return None if not whole else round((part or 0) / whole, 3)


def _median_days(service_ids: list[int]) -> dict[int, float]:
    """Median days from received to closed, per service (closed requests only)."""
    closed = ServiceRequest.detailed_status == Status.CLOSED
    if db.session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", ServiceRequest.closed_at - ServiceRequest.received_at)
        rows = db.session.execute(
            select(
                ServiceRequest.service_id,
                func.percentile_cont(0.5).within_group(seconds),
            )
            .where(closed, ServiceRequest.service_id.in_(service_ids))
            .group_by(ServiceRequest.service_id)
        )
        return {sid: float(value) / SECONDS_PER_DAY for sid, value in rows if value is not None}
    days = func.julianday(ServiceRequest.closed_at) - func.julianday(ServiceRequest.received_at)
    durations: dict[int, list[float]] = {}
    for sid, value in db.session.execute(
        select(ServiceRequest.service_id, days).where(
            closed, ServiceRequest.service_id.in_(service_ids)
        )
    ):
        if value is not None:
            durations.setdefault(sid, []).append(float(value))
    return {sid: statistics.median(values) for sid, values in durations.items()}


def per_service(month_start: datetime) -> list[ServiceStats]:
    """Figures for every public service, in name order.

    ``month_start`` is the start of "this month" in the city's time zone, as aware UTC.
    """
    closed = ServiceRequest.detailed_status == Status.CLOSED
    with_sla = closed & ServiceRequest.expected_at.is_not(None)
    on_time = with_sla & (ServiceRequest.closed_at <= ServiceRequest.expected_at)
    rows = db.session.execute(
        select(
            Service.id,
            Service.service_code,
            Service.name,
            func.count(ServiceRequest.id),
            func.sum(case((ServiceRequest.received_at >= month_start, 1), else_=0)),
            func.sum(case((closed, 1), else_=0)),
            func.sum(case((with_sla, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((ServiceRequest.reopen_count > 0, 1), else_=0)),
        )
        .join(ServiceRequest, ServiceRequest.service_id == Service.id, isouter=True)
        .where(Service.public.is_(True))
        .group_by(Service.id, Service.service_code, Service.name)
        .order_by(Service.name)
    ).all()
    medians = _median_days([row[0] for row in rows])
    result = []
    for sid, code, name, total, month, closed_n, sla_n, on_time_n, reopened_n in rows:
        median = medians.get(sid)
        result.append(
            ServiceStats(
                service_code=code,
                name=name,
                this_month=int(month or 0),
                closed=int(closed_n or 0),
                median_days_to_close=round(median, 1) if median is not None else None,
                within_sla_share=_share(on_time_n, sla_n),
                reopened_share=_share(reopened_n, total),
            )
        )
    return result
