"""Nearby search at several sizes, beside the obvious SQL for the same answer, in one run.

    .venv/bin/python bench/bench_nearby.py [--sizes 10000,100000] [--runs 50]
                                           [--pg URL] [--no-sqlite] [--no-pg]

Each database (a SQLite file; a PostgreSQL schema ``bench_nearby`` in the ``bench`` database,
dropped at the end) is migrated (spatial indexes included), given twelve services and
24 neighbourhoods, then grown to each size with ``bench_scale.grow()`` (seven in ten
requests around five hotspots, a fifth open) and analysed. At each size, at ``--runs``
points (half near a hotspot, half anywhere in the city box), median ms of:

- ours: ``places.nearby_open_requests(lat, long, 200 m, limit=10)``: the spatial index
  finds the nearest candidates (PostgreSQL: nearest-first GiST walk; SQLite: growing
  R*Tree boxes), the haversine distance decides, the 10 nearest are loaded as objects
  with their service, neighbourhood, department and photos;
- baseline, the SQL a developer writes first: ``SELECT id FROM service_requests WHERE``
  open ``AND`` squared planar distance (metres, longitude scaled by the cosine of the
  latitude) ``<= 200² ORDER BY`` that distance ``LIMIT 10``, in the database with no
  spatial index and no bounding box, as a subquery joined to the service, neighbourhood
  and department of those ten (one statement); then one query for their photos. (Joining
  before the LIMIT made SQLite drive the scan from the services' index, 10× slower at
  100,000 requests: a plan accident, not the baseline's cost.)

Both must return the same requests in the same order; points where the planar and the
great-circle distance order a near tie differently are counted and printed.
Target: ours ≤ 10 ms.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sized  # noqa: E402
from bench_scale import (  # noqa: E402
    CITY,
    analyse,
    grow,
    seed_neighbourhoods,
    seed_services,
    spot,
)
from sqlalchemy import literal_column, select  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.domain.geo import places  # noqa: E402
from webapp.models import Department, Neighborhood, Photo, Service, ServiceRequest  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

SCHEMA = "bench_nearby"
RADIUS_M = 200.0
LIMIT = 10
TARGET_MS = 10.0


def points(count: int, seed: int) -> list[tuple[float, float]]:
    """Places to search from: every other one near a hotspot, the rest anywhere."""
    rng = random.Random(seed)
    min_lat, min_long, max_lat, max_long = CITY
    return [
        spot(rng) if number % 2 else (rng.uniform(min_lat, max_lat),
                                      rng.uniform(min_long, max_long))
        for number in range(count)
    ]


def obvious_nearby(lat: float, long: float) -> list:
    """The 10 nearest open requests within the radius as the first SQL one writes."""
    north = (ServiceRequest.lat - lat) * places.METRES_PER_DEGREE_LAT
    east = (ServiceRequest.long - long) * (
        places.METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    squared = north * north + east * east
    nearest = (
        select(ServiceRequest.id, squared.label("squared"))
        .where(ServiceRequest.detailed_status != literal_column("'closed'"),
               squared <= RADIUS_M * RADIUS_M)
        .order_by(squared)
        .limit(LIMIT)
        .subquery()
    )
    rows = db.session.execute(
        select(
            ServiceRequest.id,
            ServiceRequest.public_id,
            ServiceRequest.lat,
            ServiceRequest.long,
            ServiceRequest.detailed_status,
            ServiceRequest.description,
            ServiceRequest.received_at,
            Service.name.label("service_name"),
            Neighborhood.name.label("neighbourhood_name"),
            Department.name.label("department_name"),
        )
        .join(nearest, nearest.c.id == ServiceRequest.id)
        .join(Service, Service.id == ServiceRequest.service_id)
        .outerjoin(Neighborhood, Neighborhood.id == ServiceRequest.neighborhood_id)
        .outerjoin(Department, Department.id == ServiceRequest.department_id)
        .order_by(nearest.c.squared, ServiceRequest.id)
    ).all()
    if rows:
        db.session.execute(
            select(Photo.request_id, Photo.kind, Photo.display_key, Photo.thumb_key)
            .where(Photo.request_id.in_([row.id for row in rows]))
        ).all()
    return rows


def ours_nearby(lat: float, long: float) -> list:
    """The 10 nearest open requests within the radius as the app finds them."""
    return places.nearby_open_requests(lat, long, RADIUS_M, limit=LIMIT)


def measure(label: str, settings: dict, sizes: list[int], runs: int) -> list[tuple]:
    """Grow one database through ``sizes``; time ours and the baseline at each."""
    from flask_migrate import upgrade

    app = create_app(settings)
    rows = []
    with app.app_context():
        upgrade()
        service_ids, area_ids = seed_services(), seed_neighbourhoods()
        rng, have = random.Random(311), 0
        for size in sizes:
            grow(service_ids, area_ids, have, size, rng)
            have = size
            analyse()
            where = points(runs, size)
            differ, found = 0, 0
            for lat, long in where:
                ours = [item.request.id for item in ours_nearby(lat, long)]
                base = [row.id for row in obvious_nearby(lat, long)]
                differ += ours != base
                found += len(ours)
                db.session.rollback()
            mine = sized.median_ms(lambda i, at=where: ours_nearby(*at[i]), runs,
                                   db.session.rollback)
            base = sized.median_ms(lambda i, at=where: obvious_nearby(*at[i]), runs,
                                   db.session.rollback)
            rows.append((label, size, f"nearby {RADIUS_M:.0f} m, 10 nearest", mine, base))
            print(f"[{label}] {size:,}: ours {mine:.2f} ms, obvious SQL {base:.2f} ms, "
                  f"{found / runs:.1f} hits per point, {differ} of {runs} points ordered "
                  "differently", flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    """Run every backend asked for and print the table."""
    parser = sized.parser(__doc__.splitlines()[0])
    parser.set_defaults(runs=50)
    args = parser.parse_args()
    rows = []
    for label in sized.labels(args):
        with sized.backend(label, args, SCHEMA, "nearby") as settings:
            rows += measure(label, settings, sized.sizes(args), args.runs)
    sized.print_table(
        f"Nearby open requests, radius {RADIUS_M:.0f} m, median of {args.runs} points", rows,
        TARGET_MS,
        "Baseline: WHERE open AND squared planar distance <= r² ORDER BY it LIMIT 10 (no "
        "spatial index, no bounding box), then the ten's photos.",
    )


if __name__ == "__main__":
    main()
