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
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import CityBoundary, Neighborhood, Service, ServiceRequest, Status

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


def nearby_prefilter(lat: float, long: float, radius_m: float) -> Select:
    """The SQL half of a nearby search: open requests inside the circle's bounding box.

    Only the columns needed for the exact distance are read, and the range conditions
    on ``lat`` then ``long`` are served by the index ``ix_service_requests_lat_long``.
    """
    min_lat, min_long, max_lat, max_long = bounding_box(lat, long, radius_m)
    return select(
        ServiceRequest.id, ServiceRequest.lat, ServiceRequest.long, ServiceRequest.service_id
    ).where(
        ServiceRequest.lat.between(min_lat, max_lat),
        ServiceRequest.long.between(min_long, max_long),
        ServiceRequest.detailed_status != Status.CLOSED,
    )


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

    An indexed bounding-box prefilter narrows the rows in SQL; the exact haversine
    distance then decides, and only the ``limit`` nearest are loaded as objects. The
    service is filtered here rather than in SQL so the planner keeps using the location
    index instead of the (much less selective) service index.
    """
    allowed = None
    if public_only:
        allowed = set(db.session.scalars(select(Service.id).where(Service.public.is_(True))))
    hits = []
    for request_id, row_lat, row_long, row_service in db.session.execute(
        nearby_prefilter(lat, long, radius_m)
    ):
        if service_id is not None and row_service != service_id:
            continue
        if allowed is not None and row_service not in allowed:
            continue
        distance = distance_m(lat, long, row_lat, row_long)
        if distance <= radius_m:
            hits.append((distance, request_id))
    hits.sort()
    hits = hits[:limit]
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
