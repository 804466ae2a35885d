"""Request counts per fine map grid cell, kept right as requests change.

The whole-city map shows a few hundred clusters over millions of requests; counting
them from the requests on every pan costs a scan of the city. Instead
``map_cell_rollups`` holds, for the cluster grid of every zoom ``level`` from
``MIN_LEVEL`` to ``GRID_ZOOM`` (a pyramid), per cell, service, status and detailed
status: how many requests, and the sums of their latitude, longitude and id. A view
at zoom z reads level z, so it sums about (cells on screen x services x statuses)
rows whatever the city's size: the middle is sum / count, and a cell holding one
request names it by its id sum. Below ``MIN_LEVEL`` a cell is exactly 2^k cells of
``MIN_LEVEL`` (cells halve per zoom and all grids start at the same corner), so the
indices are shifted right by k.

Every flush that creates, changes or deletes a request moves the counts by the
difference between the cell it counted in before and the one it counts in now (its
"footprint"), in the same transaction as the change: create, close, reopen, merge
(the duplicate is closed), a new service, a moved pin or a deletion all land here.
Bulk loads that bypass the ORM call ``rebuild()`` (also run by ``flask
rebuild-rollups``), which recounts the finest level from the requests in one
``GROUP BY`` and each coarser level from the finest.
"""

from __future__ import annotations

import math

from sqlalchemy import Integer, cast, delete, event, func, insert, literal, select
from sqlalchemy.orm import Session

from webapp.domain.figures import flushed_requests, upserts
from webapp.models import MapCellRollup, ServiceRequest
from webapp.plumbing.extensions import db

TILE_PIXELS = 256
CLUSTER_CELL_PIXELS = 64
# The finest level: cells of about 150 m x 125 m. Zooms up to this one are summed
# from the counts (a street-level view of a busy district holds a third of a million
# requests at a big city's size); closer zooms look at few enough requests to group
# them directly.
GRID_ZOOM = 16
MIN_LEVEL = 8
LEVELS = tuple(range(MIN_LEVEL, GRID_ZOOM + 1))
LONG_ORIGIN = 180.0
LAT_ORIGIN = 90.0
FIELDS = ("lat", "long", "service_id", "status", "detailed_status")
KEY = ("level", "cell_x", "cell_y", "service_id", "status", "detailed_status")
SUMS = ("count", "sum_lat", "sum_long", "sum_id")


def cell_degrees(zoom: int) -> float:
    """The grid cell for a zoom level: CLUSTER_CELL_PIXELS on screen, in degrees of longitude.

    360 / 2^(zoom + 2) is exact in binary, so snapping to a coarser grid by dividing
    the fine index by a power of two gives the same cell as snapping directly.
    """
    return 360.0 / (2**zoom) / (TILE_PIXELS / CLUSTER_CELL_PIXELS)


GRID_CELL = cell_degrees(GRID_ZOOM)


def level_for(zoom: int) -> int:
    """The pyramid level a view at ``zoom`` reads (zoom must be at most GRID_ZOOM)."""
    return max(zoom, MIN_LEVEL)


def cell_index(value: float, origin: float, cell: float = GRID_CELL) -> int:
    """The grid index of a coordinate, computed as the database computes ``snapped``."""
    return math.floor((value + origin) / cell)


def snapped(column, origin: float, cell: float, dialect: str):
    """The grid index of a coordinate column in SQL; the shift by ``origin`` keeps it
    positive, so the integer cast on SQLite (truncation) equals floor, as ``floor``
    does on PostgreSQL."""
    shifted = (column + origin) / cell
    if dialect == "postgresql":
        return cast(func.floor(shifted), Integer)
    return cast(shifted, Integer)


def footprint(values: dict, request_id: int | None) -> dict[tuple, list]:
    """The cells a request counts in (one per level), as {key: [count, sum_lat,
    sum_long, sum_id]}."""
    lat, long, service_id = values["lat"], values["long"], values["service_id"]
    if lat is None or long is None or service_id is None or request_id is None:
        return {}
    found = {}
    for level in LEVELS:
        cell = cell_degrees(level)
        key = (
            level,
            cell_index(long, LONG_ORIGIN, cell),
            cell_index(lat, LAT_ORIGIN, cell),
            service_id,
            values["status"],
            values["detailed_status"],
        )
        found[key] = [1, lat, long, request_id]
    return found


def _add(change: dict, found: dict, sign: int) -> None:
    for key, sums in found.items():
        total = change.setdefault(key, [0, 0.0, 0.0, 0])
        for position, amount in enumerate(sums):
            total[position] += sign * amount


_UPSERT = []


def _upsert():
    """The cell upsert, written once."""
    if not _UPSERT:
        _UPSERT.append(upserts.statement(MapCellRollup.__table__, KEY))
    return _UPSERT[0]


def apply(connection, change: dict) -> None:
    """Add a footprint difference to the cell counts: one statement run with every cell
    the flush moved (in key order, so concurrent flushes lock cells in the same order)."""
    rows = [
        {**dict(zip(KEY, key, strict=True)), **dict(zip(SUMS, sums, strict=True))}
        for key, sums in sorted(change.items())
        if any(sums)
    ]
    if rows:
        connection.execute(_upsert(), rows)


def _after_flush(session: Session, _context) -> None:
    """Move the cell counts by what this flush changed in requests."""
    change: dict = {}
    for request, before, now in flushed_requests.changes(session, FIELDS):
        if now is not None:
            _add(change, footprint(now, request.id), 1)
        if before is not None:
            _add(change, footprint(before, request.id), -1)
    if change:
        apply(session.connection(), change)


def listen() -> None:
    """Keep the cell counts in step with every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def rebuild(connection=None) -> None:
    """Recount every cell from the requests (after bulk loads), in one ``GROUP BY``."""
    connection = connection or db.session.connection()
    dialect = connection.dialect.name
    cell_x = snapped(ServiceRequest.long, LONG_ORIGIN, GRID_CELL, dialect).label("cell_x")
    cell_y = snapped(ServiceRequest.lat, LAT_ORIGIN, GRID_CELL, dialect).label("cell_y")
    counted = (
        select(
            literal(GRID_ZOOM, Integer),
            cell_x,
            cell_y,
            ServiceRequest.service_id,
            ServiceRequest.status,
            ServiceRequest.detailed_status,
            func.count(),
            func.sum(ServiceRequest.lat),
            func.sum(ServiceRequest.long),
            func.sum(ServiceRequest.id),
        )
        .where(ServiceRequest.lat.is_not(None), ServiceRequest.long.is_not(None))
        .group_by(
            cell_x,
            cell_y,
            ServiceRequest.service_id,
            ServiceRequest.status,
            ServiceRequest.detailed_status,
        )
    )
    connection.execute(delete(MapCellRollup))
    connection.execute(insert(MapCellRollup).from_select([*KEY, *SUMS], counted))
    fine = MapCellRollup
    for level in LEVELS[:-1]:
        shift = GRID_ZOOM - level
        coarse_x = fine.cell_x.op(">>", return_type=Integer)(shift)
        coarse_y = fine.cell_y.op(">>", return_type=Integer)(shift)
        summed = (
            select(
                literal(level, Integer),
                coarse_x,
                coarse_y,
                fine.service_id,
                fine.status,
                fine.detailed_status,
                func.sum(fine.count),
                func.sum(fine.sum_lat),
                func.sum(fine.sum_long),
                func.sum(fine.sum_id),
            )
            .where(fine.level == GRID_ZOOM)
            .group_by(coarse_x, coarse_y, fine.service_id, fine.status, fine.detailed_status)
        )
        connection.execute(insert(MapCellRollup).from_select([*KEY, *SUMS], summed))
