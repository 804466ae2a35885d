"""The staff queue: which requests a filter selects, in which order, one page at a time.

The default order is by due time (soonest first, requests without a target last), so
what is overdue or at risk is at the top; the other orders stay one choice away.
Built to stay fast on a big city: the default view walks the ``detailed_status +
expected_at`` index (oldest first walks ``detailed_status + received_at``), the count runs on the bare filtered rows
without joins and stops at COUNT_CAP, and the page's related rows come in a few
``selectinload`` queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.domain import service_levels
from webapp.models import ServiceRequest, Status, utcnow
from webapp.plumbing.extensions import db

OPEN_STATUSES = (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
STATUS_CHOICES = ("open", "submitted", "acknowledged", "in_progress", "closed", "all")
DEFAULT_SORT = "due"
SORTS = {
    "due": (ServiceRequest.expected_at.asc().nulls_last(), ServiceRequest.id.asc()),
    "oldest": (ServiceRequest.received_at.asc(), ServiceRequest.id.asc()),
    "newest": (ServiceRequest.received_at.desc(), ServiceRequest.id.desc()),
    "updated": (ServiceRequest.updated_at.desc(), ServiceRequest.id.desc()),
    "supporters": (ServiceRequest.supporters_count.desc(), ServiceRequest.id.asc()),
}
DEFAULT_PAGE_SIZE = 50
COUNT_CAP = 1_000


@dataclass
class QueueFilters:
    """What the staff member asked to see; every field is optional."""

    status: str = "open"
    service_id: int | None = None
    department_id: int | None = None
    neighborhood_id: int | None = None
    overdue: bool = False
    at_risk: bool = False
    reopened: bool = False
    min_age_days: int | None = None
    sort: str = DEFAULT_SORT


@dataclass
class QueuePage:
    """One page of the queue and how many requests match in all."""

    rows: list[ServiceRequest]
    total: int
    page: int
    page_size: int
    total_is_exact: bool = True

    @property
    def pages(self) -> int:
        """How many pages the matching requests fill (at least one)."""
        return max(1, (self.total + self.page_size - 1) // self.page_size)


def _status_condition(status: str):
    if status == "all":
        return None
    if status == "open":
        return ServiceRequest.detailed_status.in_(OPEN_STATUSES)
    return ServiceRequest.detailed_status == status


def conditions(filters: QueueFilters, now: datetime | None = None) -> list:
    """The SQL conditions for a set of filters (shared by the page and its count)."""
    now = now or utcnow()
    found = []
    status_condition = _status_condition(filters.status)
    if status_condition is not None:
        found.append(status_condition)
    if filters.service_id:
        found.append(ServiceRequest.service_id == filters.service_id)
    if filters.department_id:
        found.append(ServiceRequest.department_id == filters.department_id)
    if filters.neighborhood_id:
        found.append(ServiceRequest.neighborhood_id == filters.neighborhood_id)
    if filters.overdue:
        found.append(ServiceRequest.expected_at < now)
        found.append(ServiceRequest.detailed_status.in_(OPEN_STATUSES))
        found.append(ServiceRequest.sla_paused_at.is_(None))
    if filters.at_risk:
        found.append(ServiceRequest.expected_at >= now)
        found.append(ServiceRequest.expected_at < service_levels.at_risk_horizon(now))
        found.append(ServiceRequest.detailed_status.in_(OPEN_STATUSES))
        found.append(ServiceRequest.sla_paused_at.is_(None))
    if filters.reopened:
        found.append(ServiceRequest.reopened.is_(True))
    if filters.min_age_days:
        found.append(ServiceRequest.received_at <= now - timedelta(days=filters.min_age_days))
    return found


def search(filters: QueueFilters, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> QueuePage:
    """One page of requests matching ``filters``, with their related rows loaded.

    The page is found as ids first (an index-only walk in the sort order), then those
    rows are loaded with their relations: the database never sorts whole rows.
    """
    where = conditions(filters)
    page = max(page, 1)
    total, exact = capped_count(where)
    order = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    ids = db.session.scalars(
        select(ServiceRequest.id)
        .where(*where)
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    loaded = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.id.in_(ids))
        .options(
            selectinload(ServiceRequest.service),
            selectinload(ServiceRequest.department),
            selectinload(ServiceRequest.neighborhood),
            selectinload(ServiceRequest.assignee),
        )
    ).all()
    by_id = {row.id: row for row in loaded}
    return QueuePage([by_id[i] for i in ids if i in by_id], total, page, page_size, exact)


def capped_count(where: list, cap: int | None = None) -> tuple[int, bool]:
    """How many requests match, counting no further than ``cap`` (COUNT_CAP) + 1.

    A big city's whole open queue is millions of rows; nobody pages past the first
    thousands, so the count stops there and says so ("1,000+") instead of reading
    every open request on each view. Returns (count, exact).
    """
    cap = COUNT_CAP if cap is None else cap
    limited = select(ServiceRequest.id).where(*where).limit(cap + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(limited)) or 0
    return (cap, False) if found > cap else (found, True)


def is_overdue(request: ServiceRequest, now: datetime | None = None) -> bool:
    """True when an open request is past the time its service level promised (a request
    whose clock stands while the city waits on the resident is not)."""
    return service_levels.standing(request, now, horizon=now or utcnow()) == "overdue"
