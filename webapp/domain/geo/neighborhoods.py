"""A neighborhood at a glance, for its liaison: counts, oldest open, overdue, requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from webapp.models import Neighborhood, ServiceRequest, Status, User, utcnow
from webapp.plumbing.extensions import db

DASHBOARD_LIMIT = 300


@dataclass
class Dashboard:
    """The figures and requests of one neighborhood."""

    neighborhood: Neighborhood
    open_count: int
    closed_count: int
    overdue_count: int
    oldest_open: ServiceRequest | None
    requests: list[ServiceRequest]


def dashboard(neighborhood: Neighborhood, limit: int = DASHBOARD_LIMIT) -> Dashboard:
    """Counts in one query, the oldest open request, and the newest requests."""
    now = utcnow()
    in_hood = ServiceRequest.neighborhood_id == neighborhood.id
    is_open = ServiceRequest.detailed_status != Status.CLOSED
    open_n, closed_n, overdue_n = db.session.execute(
        select(
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((is_open, 0), else_=1)),
            func.sum(case((is_open & (ServiceRequest.expected_at < now), 1), else_=0)),
        ).where(in_hood)
    ).one()
    oldest = db.session.scalars(
        select(ServiceRequest).where(in_hood, is_open).order_by(ServiceRequest.received_at)
    ).first()
    rows = db.session.scalars(
        select(ServiceRequest)
        .where(in_hood)
        .options(selectinload(ServiceRequest.service))
        .order_by(ServiceRequest.received_at.desc())
        .limit(limit)
    ).all()
    return Dashboard(
        neighborhood, int(open_n or 0), int(closed_n or 0), int(overdue_n or 0), oldest, list(rows)
    )


def may_watch(user: User, request: ServiceRequest) -> bool:
    """Staff watch anything; a liaison watches requests in their own neighborhood."""
    if user.is_staff:
        return True
    return bool(user.neighborhood_id and request.neighborhood_id == user.neighborhood_id)
