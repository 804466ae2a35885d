"""What a flush changed in requests, for the figures kept in step with them.

The rollups for /stats (``rollups``) and the map's grid counts (``map_grid``) both move
by the difference between a request's values before and after a flush; this module
reads that difference once from SQLAlchemy's attribute history.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from webapp.models import ServiceRequest


def values_now(request: ServiceRequest, fields: tuple[str, ...]) -> dict:
    """The request's current values of ``fields``."""
    return {name: getattr(request, name) for name in fields}


def values_before(request: ServiceRequest, fields: tuple[str, ...]) -> dict:
    """The request's values of ``fields`` as they were before this flush's changes."""
    state = inspect(request)
    values = {}
    for name in fields:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif history.unchanged:
            values[name] = history.unchanged[0]
        else:
            values[name] = getattr(request, name)
    return values


def _changed(request: ServiceRequest, fields: tuple[str, ...]) -> bool:
    """Whether this flush changes any of ``fields`` of a request already stored (most
    flushes of a request only touch its ``updated_at`` or other columns)."""
    attributes = inspect(request).attrs
    return any(attributes[name].history.has_changes() for name in fields)


def changes(
    session: Session, fields: tuple[str, ...]
) -> Iterator[tuple[ServiceRequest, dict | None, dict | None]]:
    """``(request, before, now)`` for every request the flush added, changed or deleted:
    ``before`` is None for a new request and ``now`` None for a deleted one."""
    for request in session.new:
        if isinstance(request, ServiceRequest):
            yield request, None, values_now(request, fields)
    for request in session.dirty:
        if isinstance(request, ServiceRequest) and _changed(request, fields):
            yield request, values_before(request, fields), values_now(request, fields)
    for request in session.deleted:
        if isinstance(request, ServiceRequest):
            yield request, values_before(request, fields), None
