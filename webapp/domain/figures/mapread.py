"""Public map reads: a page of requests in a box, and grid clusters for a zoom level.

Both are built to stay fast on a city with millions of requests:

- the page selects only the columns the public shape needs, in one query with its
  joins (no ORM objects, no per-row lazy loads), then the page's photos in one more;
  the page's statements are compiled once and run on the driver
  (``plumbing.driver_reads``), so a page's rows are plain tuples;
- the page is found newest first and can be walked by a keyset cursor (``after``), so
  page 50 costs what page 1 costs;
- the number of matching requests is counted only up to ``COUNT_CAP`` ("1,000+"), so a
  pan over the whole city never counts every request;
- clusters are one ``GROUP BY`` on coordinates snapped to a grid whose cell is a fixed
  size on screen at the asked zoom level: the database returns a few hundred rows
  whatever the number of requests behind them. From the city down to the
  neighbourhood they are summed from the grid cell counts (``map_grid``), so even the
  whole-city view never reads the requests.

Requests without coordinates (allowed for some channels) are never in a box or a cluster.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from webapp.domain.figures import map_grid
from webapp.domain.figures.map_grid import cell_degrees
from webapp.models import (
    Department,
    MapCellRollup,
    Neighborhood,
    Photo,
    Service,
    ServiceRequest,
    Status,
    UTCDateTime,
)
from webapp.plumbing.database import reading_connection
from webapp.plumbing.driver_reads import driver_rows
from webapp.plumbing.extensions import db

COUNT_CAP = 1000
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
        found.append(_status_column(filters.status) == filters.status)
    if filters.service_code:
        found.append(Service.service_code == filters.service_code)
    if filters.since:
        found.append(ServiceRequest.received_at >= filters.since)
    return found


def _status_column(status: str):
    return (
        ServiceRequest.status if status in ("open", "closed") else ServiceRequest.detailed_status
    )


def _shape(filters: MapFilters) -> tuple:
    """Which filters are set (and on which status column): the statement's shape."""
    return (
        filters.bbox is not None,
        _status_column(filters.status).key if filters.status else None,
        filters.service_code is not None,
        filters.since is not None,
    )


def _bound_conditions(shape: tuple) -> list:
    """The conditions of a shape with bound parameters in place of values."""
    has_bbox, status_key, has_service, has_since = shape
    found = [Service.public.is_(True)]
    if has_bbox:
        found.append(ServiceRequest.lat.between(bindparam("min_lat"), bindparam("max_lat")))
        found.append(ServiceRequest.long.between(bindparam("min_lon"), bindparam("max_lon")))
    if status_key:
        column = getattr(ServiceRequest, status_key)
        found.append(column == bindparam("status", type_=String))
    if has_service:
        found.append(Service.service_code == bindparam("service_code", type_=String))
    if has_since:
        found.append(ServiceRequest.received_at >= bindparam("since", type_=UTCDateTime))
    return found


def _parameters(filters: MapFilters) -> dict:
    values: dict = {}
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        values.update(min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
    if filters.status:
        values["status"] = filters.status
    if filters.service_code:
        values["service_code"] = filters.service_code
    if filters.since:
        values["since"] = filters.since
    return values


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


_STATEMENTS: dict[tuple, object] = {}


def _statement(kind: str, shape: tuple, build):
    """A statement built once per dialect, kind and filter shape, then reused.

    Building a SQLAlchemy statement costs more than running this one on a small city;
    with bound parameters the same object serves every pan and zoom.
    """
    key = (db.session.get_bind().dialect.name, kind, shape)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


# -- the page ---------------------------------------------------------------------------

_DUPLICATE = aliased(ServiceRequest)


def w3c_column(column, name: str):
    """A UTC timestamp column formatted as a W3C datetime by the database itself.

    Timestamps are stored as naive UTC; formatting them in SQL (C code on both
    databases) spares the page a datetime parse and an ``isoformat`` per value.
    """
    if _postgres():
        text = func.to_char(column, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"'"))
    else:
        text = func.strftime("%Y-%m-%dT%H:%M:%S+00:00", column)
    return type_coerce(text, String).label(name)


def page_columns() -> tuple:
    """The columns of the public request shape, ready to serialize."""
    return (
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
        ServiceRequest.needs_location,
        ServiceRequest.address,
        ServiceRequest.landmark,
        Neighborhood.name.label("neighborhood"),
        Department.name.label("agency_responsible"),
        ServiceRequest.attribute_values,
        ServiceRequest.supporters_count,
        _DUPLICATE.public_id.label("duplicate_of"),
        ServiceRequest.channel,
        w3c_column(ServiceRequest.received_at, "requested_datetime"),
        w3c_column(ServiceRequest.updated_at, "updated_datetime"),
        w3c_column(ServiceRequest.expected_at, "expected_datetime"),
        w3c_column(ServiceRequest.closed_at, "closed_datetime"),
    )


# The names of ``page_columns()``, in their order: a page's rows are plain tuples.
PAGE_KEYS = (
    "id", "public_id", "service_code", "service_name", "description", "status",
    "detailed_status", "resolution", "resolution_note", "referred_to", "reopened", "lat",
    "long", "needs_location", "address", "landmark", "neighborhood", "agency_responsible",
    "attribute_values", "supporters_count", "duplicate_of", "channel", "requested_datetime",
    "updated_datetime", "expected_datetime", "closed_datetime",
)  # fmt: skip


@dataclass
class Page:
    """One page of public request rows (tuples in ``PAGE_KEYS`` order), its photos (tuples
    of request id, kind, width, height, display and thumbnail keys) and what is known of
    the rest."""

    rows: list
    photos: dict[int, list]
    total: int
    total_is_exact: bool
    next_after: str | None


# A keyset cursor names the last row of a page: "r" and the row's id. Any such cursor is
# meaningful (the page starts after that row), so a client may also write one itself.
CURSOR_PATTERN = r"^r[0-9]{1,18}$"


def encode_cursor(request_id: int) -> str:
    """The keyset cursor naming the last row of a page."""
    return f"r{request_id}"


def decode_cursor(cursor: str) -> int:
    """The request id inside a cursor, or BadCursor."""
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise BadCursor(cursor)
    return int(cursor[1:])


def capped_count(
    filters: MapFilters, cap: int | None = None, connection: Connection | None = None
) -> tuple[int, bool]:
    """How many requests match, counting no further than ``cap`` (COUNT_CAP) + 1.

    Returns (count, exact): above the cap the count is ``cap`` and not exact. Runs on
    ``connection`` when the caller is already reading on one.
    """
    cap = COUNT_CAP if cap is None else cap
    shape = _shape(filters)

    def build():
        limited = (
            select(ServiceRequest.id)
            .join(Service, Service.id == ServiceRequest.service_id)
            .where(*_bound_conditions(shape))
            .limit(bindparam("cap_plus_one", type_=Integer))
            .subquery()
        )
        return select(func.count()).select_from(limited)

    statement = _statement("count", shape, build)
    values = {**_parameters(filters), "cap_plus_one": cap + 1}
    with reading_connection() if connection is None else nullcontext(connection) as reader:
        found = driver_rows(reader, statement, values)[0][0] or 0
    return (cap, False) if found > cap else (found, True)


def _page_statement(shape: tuple, keyset: bool):
    def build():
        query = (
            select(*page_columns())
            .join(Service, Service.id == ServiceRequest.service_id)
            .outerjoin(Neighborhood, Neighborhood.id == ServiceRequest.neighborhood_id)
            .outerjoin(Department, Department.id == ServiceRequest.department_id)
            .outerjoin(_DUPLICATE, _DUPLICATE.id == ServiceRequest.duplicate_of_id)
            .where(*_bound_conditions(shape))
            .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
            .limit(bindparam("page_size", type_=Integer))
        )
        if not keyset:
            return query.offset(bindparam("skip", type_=Integer))
        last_id = bindparam("last_id", type_=Integer)
        when = select(ServiceRequest.received_at).where(ServiceRequest.id == last_id)
        when = when.scalar_subquery()
        return query.where(
            or_(
                ServiceRequest.received_at < when,
                and_(ServiceRequest.received_at == when, ServiceRequest.id < last_id),
            )
        )

    return _statement("page-keyset" if keyset else "page", shape, build)


def _page_ids_condition():
    """``Photo.request_id`` is one of the page's ids, given as one parameter (``ids``).

    One bound value, not a hundred: an ``IN`` list expanded per call costs the app more
    than the database spends finding the photos. PostgreSQL takes an integer array,
    SQLite a JSON array read by ``json_each``; ``_page_ids`` writes either.
    """
    if _postgres():
        return Photo.request_id == any_(bindparam("ids", type_=ARRAY(Integer)))
    listed = select(literal_column("value")).select_from(
        func.json_each(bindparam("ids", type_=String))
    )
    return Photo.request_id.in_(listed)


def _page_ids(ids: list[int]):
    """The page's ids as ``_page_ids_condition`` takes them on this database."""
    return ids if _postgres() else json.dumps(ids)


def _photos_statement():
    def build():
        return (
            select(
                Photo.request_id,
                Photo.kind,
                Photo.width,
                Photo.height,
                Photo.display_key,
                Photo.thumb_key,
            )
            .where(_page_ids_condition())
            .order_by(Photo.id)
        )

    return _statement("photos", (), build)


def page(
    filters: MapFilters, *, page_size: int, page_number: int = 1, after: str | None = None
) -> Page:
    """A page of public requests, newest first, by offset (``page_number``) or keyset."""
    shape = _shape(filters)
    values = {**_parameters(filters), "page_size": page_size}
    if after:
        values["last_id"] = decode_cursor(after)
    else:
        values["skip"] = (page_number - 1) * page_size
    with reading_connection() as connection:
        rows = driver_rows(connection, _page_statement(shape, bool(after)), values)
        photos: dict[int, list] = {}
        if rows:
            ids = _page_ids([row[0] for row in rows])
            for photo in driver_rows(connection, _photos_statement(), {"ids": ids}):
                photos.setdefault(photo[0], []).append(photo)
        if after is None and page_number == 1 and len(rows) < page_size:
            total, exact = len(rows), True
        else:
            total, exact = capped_count(filters, connection=connection)
            if after is None:
                seen = (page_number - 1) * page_size + len(rows)
                if not exact and seen >= total:
                    total = seen
    last = rows[-1] if len(rows) == page_size else None
    next_after = encode_cursor(last[0]) if last is not None else None
    return Page(rows, photos, total, exact, next_after)


def freshness() -> tuple[str, datetime | None]:
    """A cheap fingerprint of the public data (newest change, newest id) and its time.

    Both come from indexed maxima, so answering a conditional request costs two index
    lookups rather than the query it would replace.
    """
    statement = _statement(
        "freshness",
        (),
        lambda: select(func.max(ServiceRequest.updated_at), func.max(ServiceRequest.id)),
    )
    with reading_connection() as connection:
        ((newest, top_id),) = driver_rows(connection, statement)
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


def rollup_serves(filters: MapFilters, zoom: int) -> bool:
    """Whether the grid cell counts can answer these clusters.

    They can when the zoom's cell is the fine grid's or coarser and no time window is
    asked: the counts are kept per cell, service and status, not per moment, so a
    ``since`` filter (any moment) is grouped from the requests instead.
    """
    return zoom <= map_grid.GRID_ZOOM and filters.since is None


def clusters(filters: MapFilters, zoom: int) -> tuple[list[Cluster], int]:
    """Grid clusters of the public requests matching ``filters`` at ``zoom``.

    Returns the clusters (at most MAX_CLUSTERS, biggest first) and the number of
    requests they hold. A cell holding one request carries that request's id, service,
    status and page address, so a zoomed-in map shows markers from the same answer.

    Up to ``map_grid.GRID_ZOOM`` and without a time window the clusters are sums of the
    grid cell counts of the zoom's own grid (rows in proportion to the cells on screen,
    whatever the city's size); there the box is taken in whole cells, so a cluster
    straddling the edge of the view counts its whole cell, requests just outside the
    view included. Closer zooms, and any ``since`` filter (the counts are not kept per
    moment), group the matching requests themselves, found through the spatial index.
    """
    if rollup_serves(filters, zoom):
        rows = _rollup_rows(filters, zoom)
    else:
        rows = _request_rows(filters, zoom)
    return _clusters_of(rows)


def _rollup_rows(filters: MapFilters, zoom: int) -> list:
    """(n, lat, long, first_id) per cluster, summed from the grid cell counts."""
    level = map_grid.level_for(zoom)
    shift = level - zoom
    cell_x, cell_y = MapCellRollup.cell_x, MapCellRollup.cell_y
    if shift:
        cell_x = cell_x.op(">>", return_type=Integer)(shift)
        cell_y = cell_y.op(">>", return_type=Integer)(shift)
    count = func.sum(MapCellRollup.count)
    where = [Service.public.is_(True), MapCellRollup.level == level]
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        cell = cell_degrees(level)
        where += [
            MapCellRollup.cell_x.between(
                map_grid.cell_index(min_lon, map_grid.LONG_ORIGIN, cell),
                map_grid.cell_index(max_lon, map_grid.LONG_ORIGIN, cell),
            ),
            MapCellRollup.cell_y.between(
                map_grid.cell_index(min_lat, map_grid.LAT_ORIGIN, cell),
                map_grid.cell_index(max_lat, map_grid.LAT_ORIGIN, cell),
            ),
        ]
    if filters.status:
        column = getattr(MapCellRollup, _status_column(filters.status).key)
        where.append(column == filters.status)
    if filters.service_code:
        where.append(Service.service_code == filters.service_code)
    found = db.session.execute(
        select(
            count.label("n"),
            func.sum(MapCellRollup.sum_lat).label("sum_lat"),
            func.sum(MapCellRollup.sum_long).label("sum_long"),
            func.sum(MapCellRollup.sum_id).label("sum_id"),
        )
        .join(Service, Service.id == MapCellRollup.service_id)
        .where(*where)
        .group_by(cell_x, cell_y)
        .having(count > 0)
        .order_by(count.desc())
        .limit(MAX_CLUSTERS)
    ).all()
    return [
        (int(row.n), row.sum_lat / row.n, row.sum_long / row.n, int(row.sum_id))
        for row in found
    ]


def _request_rows(filters: MapFilters, zoom: int) -> list:
    """(n, lat, long, first_id) per cluster, grouped from the matching requests."""
    cell = cell_degrees(zoom)
    dialect = db.session.get_bind().dialect.name
    grid_x = map_grid.snapped(ServiceRequest.long, map_grid.LONG_ORIGIN, cell, dialect)
    grid_y = map_grid.snapped(ServiceRequest.lat, map_grid.LAT_ORIGIN, cell, dialect)
    grid_x, grid_y = grid_x.label("gx"), grid_y.label("gy")
    where = [
        *conditions(filters),
        ServiceRequest.lat.is_not(None),
        ServiceRequest.long.is_not(None),
    ]
    count = func.count().label("n")
    found = db.session.execute(
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
    return [(int(row.n), row.lat, row.long, row.first_id) for row in found]


def _clusters_of(rows: list) -> tuple[list[Cluster], int]:
    """Clusters from (n, lat, long, first_id) rows, lone requests with their details."""
    singles = [first_id for n, _lat, _long, first_id in rows if n == 1][:SINGLE_DETAILS_LIMIT]
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
                w3c_column(ServiceRequest.received_at, "requested_datetime"),
            )
            .join(Service, Service.id == ServiceRequest.service_id)
            .where(ServiceRequest.id.in_(singles))
        ):
            details[row.id] = row
    found = [
        Cluster(
            lat=round(float(lat), 6),
            long=round(float(long), 6),
            count=n,
            request=details.get(first_id) if n == 1 else None,
        )
        for n, lat, long, first_id in rows
    ]
    return found, sum(c.count for c in found)
