"""Where things are: the city boundary, neighborhoods, distances and nearby requests.

Geometry uses shapely; polygons are GeoJSON stored in the database and cached here by
their content so point-in-polygon is cheap on every submission.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _
from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import Float, Select, and_, column, func, literal_column, select, table
from sqlalchemy.orm import joinedload, selectinload

from webapp.domain.errors import DomainError
from webapp.models import CityBoundary, Neighborhood, Service, ServiceRequest
from webapp.plumbing.extensions import db

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(long2 - long1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(lat: float, long: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_long, max_lat, max_long) of a square that contains the circle."""
    d_lat = radius_m / METRES_PER_DEGREE_LAT
    d_long = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 1e-6))
    return lat - d_lat, long - d_long, lat + d_lat, long + d_long


def _freeze(geojson: dict) -> str:
    """A canonical string of a GeoJSON geometry, usable as a cache key."""
    return json.dumps(geojson, sort_keys=True)


@lru_cache(maxsize=64)
def _prepared(frozen_geojson: str):
    """A shapely prepared geometry (fast repeated point tests), cached per polygon."""
    return prep(shape(json.loads(frozen_geojson)))


def contains(geojson: dict, lat: float, long: float) -> bool:
    """True when the GeoJSON polygon contains the point (GeoJSON order is long, lat)."""
    return _prepared(_freeze(geojson)).covers(Point(long, lat))


def city_boundary() -> CityBoundary | None:
    """The configured city boundary, or None when none has been loaded."""
    return db.session.scalars(select(CityBoundary).limit(1)).first()


def check_inside_city(lat: float, long: float) -> None:
    """Refuse a location outside the city limits with a clear message."""
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise DomainError(_("That location is not a valid map position."), field="lat")
    boundary = city_boundary()
    if boundary is not None and not contains(boundary.geojson, lat, long):
        raise DomainError(
            _(
                "That spot is outside the city limits, so the city cannot fix it. Please move the pin inside the city, or contact the county."
            ),
            field="location",
            details={"reason": "outside_city"},
        )


def neighborhood_for(lat: float, long: float) -> Neighborhood | None:
    """The neighborhood containing the point, found by bounding box then polygon."""
    candidates = db.session.scalars(
        select(Neighborhood).where(
            Neighborhood.min_lat <= lat,
            Neighborhood.max_lat >= lat,
            Neighborhood.min_long <= long,
            Neighborhood.max_long >= long,
        )
    )
    for neighborhood in candidates:
        if contains(neighborhood.geojson, lat, long):
            return neighborhood
    return None


def geojson_bbox(geojson: dict) -> tuple[float, float, float, float]:
    """(min_lat, min_long, max_lat, max_long) of a GeoJSON geometry."""
    min_long, min_lat, max_long, max_lat = shape(geojson).bounds
    return min_lat, min_long, max_lat, max_long


@dataclass(frozen=True)
class Nearby:
    """An open request near a point, with its distance."""

    request: ServiceRequest
    distance_m: float


# Written as a literal so PostgreSQL matches the partial index on open requests.
OPEN_CONDITION = ServiceRequest.detailed_status != literal_column("'closed'")
KNN_BATCH = 64
FIRST_REACH_SHARE = 16
MIN_REACH_M = 25.0
RTREE = table(
    "service_requests_rtree",
    column("id"),
    column("min_lat"),
    column("max_lat"),
    column("min_long"),
    column("max_long"),
)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def in_box(min_lat: float, min_long: float, max_lat: float, max_long: float):
    """Requests whose point lies in the box, as a condition the spatial index answers.

    PostgreSQL: the GiST index on ``point(long, lat)``; SQLite: the R*Tree kept by
    triggers (its 32-bit boxes are rounded outwards, so the exact test is added too).
    Requests without coordinates never match.
    """
    exact = and_(
        ServiceRequest.lat.between(min_lat, max_lat),
        ServiceRequest.long.between(min_long, max_long),
    )
    dialect = _dialect()
    if dialect == "postgresql":
        box = func.box(func.point(min_long, min_lat), func.point(max_long, max_lat))
        return func.point(ServiceRequest.long, ServiceRequest.lat).op("<@")(box)
    if dialect == "sqlite":
        in_tree = select(RTREE.c.id).where(
            RTREE.c.max_lat >= min_lat,
            RTREE.c.min_lat <= max_lat,
            RTREE.c.max_long >= min_long,
            RTREE.c.min_long <= max_long,
        )
        return and_(ServiceRequest.id.in_(in_tree), exact)
    return exact


def nearby_prefilter(lat: float, long: float, radius_m: float) -> Select:
    """The SQL half of a nearby search: open requests inside the circle's bounding box,
    found through the spatial index; only the columns the exact distance needs."""
    min_lat, min_long, max_lat, max_long = bounding_box(lat, long, radius_m)
    return select(
        ServiceRequest.id, ServiceRequest.lat, ServiceRequest.long, ServiceRequest.service_id
    ).where(in_box(min_lat, min_long, max_lat, max_long), OPEN_CONDITION)


def _measured(rows, lat: float, long: float, within: float, keep) -> list[tuple[float, int]]:
    hits = []
    for row in rows:
        if not keep(row.service_id):
            continue
        distance = distance_m(lat, long, row.lat, row.long)
        if distance <= within:
            hits.append((distance, row.id))
    hits.sort()
    return hits


def _nearest_by_knn(lat, long, radius_m, keep, limit) -> list[tuple[float, int]]:
    """PostgreSQL: walk the GiST index nearest-first (``<->``) in growing batches.

    The index orders by distance in degrees; a row ``d`` degrees away is at least
    ``d × 111 km × cos(latitude)`` metres away, so once the ``limit``-th hit is nearer
    than that bound for the last row read, no unread row can beat it.
    """
    min_lat, min_long, max_lat, max_long = bounding_box(lat, long, radius_m)
    shrink = math.cos(math.radians(min(max(abs(min_lat), abs(max_lat)), 89.9)))
    point = func.point(ServiceRequest.long, ServiceRequest.lat)
    degrees = point.op("<->", return_type=Float)(func.point(long, lat))
    batch = max(limit * 4, KNN_BATCH)
    while True:
        rows = db.session.execute(
            select(
                ServiceRequest.id,
                ServiceRequest.lat,
                ServiceRequest.long,
                ServiceRequest.service_id,
                degrees.label("degrees"),
            )
            .where(in_box(min_lat, min_long, max_lat, max_long), OPEN_CONDITION)
            .order_by(degrees)
            .limit(batch)
        ).all()
        hits = _measured(rows, lat, long, radius_m, keep)
        if len(rows) < batch:
            return hits[:limit]
        unread_at_least = rows[-1].degrees * METRES_PER_DEGREE_LAT * shrink * 0.99
        if unread_at_least > radius_m or (
            len(hits) >= limit and hits[limit - 1][0] <= unread_at_least
        ):
            return hits[:limit]
        batch *= 4


def _nearest_by_growing_box(lat, long, radius_m, keep, limit) -> list[tuple[float, int]]:
    """SQLite (R*Tree has no nearest-first order): ask the index for a small box and
    grow it fourfold until it holds ``limit`` hits within its own reach (every point
    that near is inside the box, so those are surely the nearest) or covers the radius."""
    reach = min(radius_m, max(radius_m / FIRST_REACH_SHARE, MIN_REACH_M))
    while True:
        rows = db.session.execute(nearby_prefilter(lat, long, reach)).all()
        hits = _measured(rows, lat, long, reach, keep)
        if reach >= radius_m or len(hits) >= limit:
            return hits[:limit]
        reach = min(radius_m, reach * 4)


def nearby_open_requests(
    lat: float,
    long: float,
    radius_m: float = 200.0,
    service_id: int | None = None,
    limit: int = 10,
    *,
    public_only: bool = False,
) -> list[Nearby]:
    """Open requests within ``radius_m``, nearest first.

    The spatial index finds the nearest candidates (PostgreSQL: nearest-first GiST
    walk; SQLite: R*Tree boxes growing from small), the haversine distance decides,
    and only the ``limit`` nearest are loaded as objects. The service is checked here
    rather than in SQL so the planner keeps using the spatial index.
    """
    allowed = None
    if public_only:
        allowed = set(db.session.scalars(select(Service.id).where(Service.public.is_(True))))

    def keep(row_service: int) -> bool:
        if service_id is not None and row_service != service_id:
            return False
        return allowed is None or row_service in allowed

    search = _nearest_by_knn if _dialect() == "postgresql" else _nearest_by_growing_box
    hits = search(lat, long, radius_m, keep, limit)
    if not hits:
        return []
    loaded = {
        request.id: request
        for request in db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id.in_([request_id for _, request_id in hits]))
            .options(
                joinedload(ServiceRequest.service),
                joinedload(ServiceRequest.neighborhood),
                joinedload(ServiceRequest.department),
                selectinload(ServiceRequest.photos),
            )
        )
    }
    return [Nearby(loaded[request_id], distance) for distance, request_id in hits]
