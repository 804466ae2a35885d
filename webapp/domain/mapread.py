"""Public map reads: a page of requests in a box, and grid clusters for a zoom level.

Both are built to stay fast on a city with millions of requests:

- the page selects only the columns the public shape needs, in one query with its
  joins (no ORM objects, no per-row lazy loads), then the page's photos in one more;
- the page is found newest first and can be walked by a keyset cursor (``after``), so
  page 50 costs what page 1 costs;
- the number of matching requests is counted only up to ``COUNT_CAP`` ("1,000+"), so a
  pan over the whole city never counts every request;
- clusters are one ``GROUP BY`` on coordinates snapped to a grid whose cell is a fixed
  size on screen at the asked zoom level: the database returns a few hundred rows
  whatever the number of requests behind them.

Requests without coordinates (allowed for some channels) are never in a box or a cluster.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, Integer, and_, cast, func, or_, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Department, Neighborhood, Photo, Service, ServiceRequest, Status

COUNT_CAP = 1000
TILE_PIXELS = 256
CLUSTER_CELL_PIXELS = 64
MAX_ZOOM = 22
MAX_CLUSTERS = 2000
SINGLE_DETAILS_LIMIT = 500
STATUS_FILTERS = frozenset({"open", "closed", *[s.value for s in Status]})


class BadCursor(ValueError):
    """The ``after`` cursor is not one this server gave out."""


@dataclass(frozen=True)
class MapFilters:
    """What a map view asks for; every field is optional."""

    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    status: str | None = None
    service_code: str | None = None
    since: datetime | None = None


def conditions(filters: MapFilters) -> list:
    """SQL conditions for the filters (the service join is the caller's)."""
    found = [Service.public.is_(True)]
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        found.append(ServiceRequest.lat.between(min_lat, max_lat))
        found.append(ServiceRequest.long.between(min_lon, max_lon))
    if filters.status:
        column = (
            ServiceRequest.status
            if filters.status in ("open", "closed")
            else ServiceRequest.detailed_status
        )
        found.append(column == filters.status)
    if filters.service_code:
        found.append(Service.service_code == filters.service_code)
    if filters.since:
        found.append(ServiceRequest.received_at >= filters.since)
    return found


# -- the page ---------------------------------------------------------------------------

_DUPLICATE = aliased(ServiceRequest)
PAGE_COLUMNS = (
    ServiceRequest.id,
    ServiceRequest.public_id,
    Service.service_code,
    Service.name.label("service_name"),
    ServiceRequest.description,
    ServiceRequest.status,
    ServiceRequest.detailed_status,
    ServiceRequest.resolution,
    ServiceRequest.resolution_note,
    ServiceRequest.referred_to,
    ServiceRequest.reopened,
    ServiceRequest.lat,
    ServiceRequest.long,
    ServiceRequest.address,
    ServiceRequest.landmark,
    Neighborhood.name.label("neighborhood"),
    Department.name.label("agency_responsible"),
    ServiceRequest.attribute_values,
    ServiceRequest.supporters_count,
    _DUPLICATE.public_id.label("duplicate_of"),
    ServiceRequest.channel,
    ServiceRequest.received_at,
    ServiceRequest.updated_at,
    ServiceRequest.expected_at,
    ServiceRequest.closed_at,
)


@dataclass
class Page:
    """One page of public request rows and what is known of the rest."""

    rows: list
    photos: dict[int, list]
    total: int
    total_is_exact: bool
    next_after: str | None


def encode_cursor(received_at: datetime, request_id: int) -> str:
    """An opaque keyset cursor: the last row's time and id."""
    raw = f"{received_at.astimezone(UTC).isoformat()}|{request_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (time, id) inside a cursor, or BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, request_id = raw.split("|")
        value = datetime.fromisoformat(when)
        if value.tzinfo is None:
            raise ValueError
        return value, int(request_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(cursor) from None


def capped_count(where: list, cap: int | None = None) -> tuple[int, bool]:
    """How many requests match, counting no further than ``cap`` (COUNT_CAP) + 1.

    Returns (count, exact): above the cap the count is ``cap`` and not exact.
    """
    cap = COUNT_CAP if cap is None else cap
    limited = (
        select(ServiceRequest.id)
        .join(Service, Service.id == ServiceRequest.service_id)
        .where(*where)
        .limit(cap + 1)
        .subquery()
    )
    found = db.session.scalar(select(func.count()).select_from(limited)) or 0
    return (cap, False) if found > cap else (found, True)


def page(
    filters: MapFilters, *, page_size: int, page_number: int = 1, after: str | None = None
) -> Page:
    """A page of public requests, newest first, by offset (``page_number``) or keyset."""
    where = conditions(filters)
    query = (
        select(*PAGE_COLUMNS)
        .join(Service, Service.id == ServiceRequest.service_id)
        .outerjoin(Neighborhood, Neighborhood.id == ServiceRequest.neighborhood_id)
        .outerjoin(Department, Department.id == ServiceRequest.department_id)
        .outerjoin(_DUPLICATE, _DUPLICATE.id == ServiceRequest.duplicate_of_id)
        .where(*where)
        .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
        .limit(page_size)
    )
    if after:
        when, last_id = decode_cursor(after)
        query = query.where(
            or_(
                ServiceRequest.received_at < when,
                and_(ServiceRequest.received_at == when, ServiceRequest.id < last_id),
            )
        )
    else:
        query = query.offset((page_number - 1) * page_size)
    rows = db.session.execute(query).all()
    photos: dict[int, list] = {}
    if rows:
        for photo in db.session.execute(
            select(Photo.request_id, Photo.kind, Photo.width, Photo.height, Photo.display_key,
                   Photo.thumb_key)
            .where(Photo.request_id.in_([row.id for row in rows]))
            .order_by(Photo.id)
        ):
            photos.setdefault(photo.request_id, []).append(photo)
    if after is None and page_number == 1 and len(rows) < page_size:
        total, exact = len(rows), True
    else:
        total, exact = capped_count(where)
        if after is None:
            seen = (page_number - 1) * page_size + len(rows)
            if not exact and seen >= total:
                total = seen
    last = rows[-1] if len(rows) == page_size else None
    next_after = encode_cursor(last.received_at, last.id) if last is not None else None
    return Page(rows, photos, total, exact, next_after)


def freshness() -> tuple[str, datetime | None]:
    """A cheap fingerprint of the public data (newest change, newest id) and its time.

    Both come from indexed maxima, so answering a conditional request costs two index
    lookups rather than the query it would replace.
    """
    newest, top_id = db.session.execute(
        select(func.max(ServiceRequest.updated_at), func.max(ServiceRequest.id))
    ).one()
    digest = hashlib.sha256(f"{newest}|{top_id}".encode()).hexdigest()[:16]
    return digest, newest


# -- clusters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """Requests in one grid cell: their middle, how many, and the one when alone."""

    lat: float
    long: float
    count: int
    request: dict | None = None


def cell_degrees(zoom: int) -> float:
    """The grid cell for a zoom level: CLUSTER_CELL_PIXELS on screen, in degrees of longitude."""
    return 360.0 / (2**zoom) / (TILE_PIXELS / CLUSTER_CELL_PIXELS)


def _snapped(column, origin: float, cell: float):
    """The grid index of a coordinate; the shift by ``origin`` keeps it positive, so the
    integer cast on SQLite (truncation) equals floor, as ``floor`` does on PostgreSQL."""
    shifted = (column + origin) / cell
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(shifted), Integer)
    return cast(shifted, Integer)


def clusters(filters: MapFilters, zoom: int) -> tuple[list[Cluster], int]:
    """Grid clusters of the public requests matching ``filters`` at ``zoom``.

    Returns the clusters (at most MAX_CLUSTERS, biggest first) and the number of
    requests they hold. A cell holding one request carries that request's id, service,
    status and page address, so a zoomed-in map shows markers from the same answer.
    """
    cell = cell_degrees(zoom)
    grid_x = _snapped(ServiceRequest.long, 180.0, cell).label("gx")
    grid_y = _snapped(ServiceRequest.lat, 90.0, cell).label("gy")
    where = [
        *conditions(filters),
        ServiceRequest.lat.is_not(None),
        ServiceRequest.long.is_not(None),
    ]
    count = func.count().label("n")
    rows = db.session.execute(
        select(
            grid_x,
            grid_y,
            count,
            func.avg(cast(ServiceRequest.lat, Float)).label("lat"),
            func.avg(cast(ServiceRequest.long, Float)).label("long"),
            func.min(ServiceRequest.id).label("first_id"),
        )
        .join(Service, Service.id == ServiceRequest.service_id)
        .where(*where)
        .group_by(grid_x, grid_y)
        .order_by(count.desc())
        .limit(MAX_CLUSTERS)
    ).all()
    singles = [row.first_id for row in rows if row.n == 1][:SINGLE_DETAILS_LIMIT]
    details = {}
    if singles:
        for row in db.session.execute(
            select(
                ServiceRequest.id,
                ServiceRequest.public_id,
                Service.service_code,
                Service.name,
                ServiceRequest.detailed_status,
                ServiceRequest.resolution,
                ServiceRequest.reopened,
                ServiceRequest.received_at,
            )
            .join(Service, Service.id == ServiceRequest.service_id)
            .where(ServiceRequest.id.in_(singles))
        ):
            details[row.id] = row
    found = [
        Cluster(
            lat=round(float(row.lat), 6),
            long=round(float(row.long), 6),
            count=int(row.n),
            request=details.get(row.first_id) if row.n == 1 else None,
        )
        for row in rows
    ]
    return found, sum(c.count for c in found)
