"""Read paths at a big city's volume, each beside the obvious SQL doing the same job.

    .venv/bin/python bench/bench_scale.py [--sizes 100000,1000000] [--pg-sizes 100000,1000000,3400000]
                                          [--runs 15] [--pg URL] [--no-sqlite] [--no-pg]
                                          [--only /stats]

Each database is migrated from scratch (the real migrations: spatial indexes included),
then grown step by step to each size by bulk loads (PostgreSQL ``COPY``; SQLite
``executemany`` in transactions of 100,000 rows, its R*Tree trigger firing per row; the
secondary indexes dropped during the load and made again after it) of requests spread
over a grid of 24 neighbourhoods of a demo city box, seven in ten around five dense
hotspots, over twelve services, five channels and three years, a fifth still open. The
rollups (/stats day, month and week rows, the map's grid counts) are rebuilt once per
size with ``rollups.rebuild()`` (as after any bulk load) and the tables analysed.
At each size every read path is timed ``--runs`` times at
random places and its median printed beside the baseline:

- map read, a neighbourhood: ``mapread.page`` (bbox ~1 km², 100 rows) vs the obvious
  ``SELECT … WHERE lat/long BETWEEN … ORDER BY received_at DESC LIMIT 100``;
- map, whole city: ``mapread.clusters`` at zoom 11 (summed from the grid cell counts)
  vs the obvious ``GROUP BY`` of the requests on the zoom's grid over the whole box;
- map, whole city, one service: the same with ``service_code`` (still from the counts);
- map, whole city, last 30 days: ``mapread.clusters`` with ``since`` (a time window is
  grouped from the requests, not the counts) vs the same ``GROUP BY`` with the window;
- nearby 2 km: ``places.nearby_open_requests`` vs ``… ORDER BY squared distance LIMIT 10``;
- staff queue: ``queue.search`` (default view) vs ``WHERE open ORDER BY received_at LIMIT 50``;
- /stats: ``stats.per_service`` + ``weekly`` + ``by_channel`` vs one ``GROUP BY service``
  over all requests;
- Open311 ``lat/long/radius=500``: ``open311.queries.find_requests`` vs the box +
  ``ORDER BY received_at DESC LIMIT 50`` SQL.

Bounded: the sizes are arguments; PostgreSQL runs in a schema of its own
(``bench_scale``) that is dropped at the end; SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.models import Neighborhood, Service, ServiceRequest, utcnow  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SCHEMA = "bench_scale"
CITY = (34.99, -85.40, 35.15, -85.07)  # min_lat, min_long, max_lat, max_long
HOTSPOTS = [(35.045, -85.31), (35.03, -85.27), (35.06, -85.20), (35.10, -85.28), (35.01, -85.35)]
CHANNELS = ["pwa", "web", "phone", "open311", "liaison"]
AREA_ROWS, AREA_COLUMNS = 4, 6
HISTORY_DAYS = 3 * 365
SQLITE_BATCH = 100_000
# The goals at New York's volume (3.4M requests on PostgreSQL), in milliseconds.
TARGETS = {
    "map read, neighbourhood": 20,
    "map, whole city (clusters)": 50,
    "nearby 2 km": 20,
    "staff queue": 100,
    "/stats": 50,
    "Open311 radius 500 m": 100,
}


def settings(url: str, engine_options: dict | None = None) -> dict:
    """Test settings pointed at ``url`` (no background thread, no rate limits)."""
    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    values["SQLALCHEMY_DATABASE_URI"] = url
    values["BACKGROUND_WORKER"] = "off"
    if engine_options:
        values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return values


def seed_services() -> list[int]:
    """Twelve public services with SLAs."""
    services = [
        Service(service_code=f"s{n}", name=f"Service {n}", sla_days=3 + n) for n in range(12)
    ]
    db.session.add_all(services)
    db.session.commit()
    return [s.id for s in services]


def seed_neighbourhoods() -> list[int]:
    """The city box cut into a grid of named neighbourhoods (rectangles), row by row."""
    min_lat, min_long, max_lat, max_long = CITY
    height, width = (max_lat - min_lat) / AREA_ROWS, (max_long - min_long) / AREA_COLUMNS
    areas = []
    for row in range(AREA_ROWS):
        for column in range(AREA_COLUMNS):
            south, west = min_lat + row * height, min_long + column * width
            north, east = south + height, west + width
            ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
            areas.append(Neighborhood(
                name=f"Area {row}-{column}", slug=f"area-{row}-{column}",
                geojson={"type": "Polygon", "coordinates": [ring]},
                min_lat=south, min_long=west, max_lat=north, max_long=east,
            ))
    db.session.add_all(areas)
    db.session.commit()
    return [a.id for a in areas]


def neighbourhood_of(lat: float, long: float, area_ids: list[int]) -> int:
    """The grid neighbourhood holding a point (points past the edge go to the edge's)."""
    min_lat, min_long, max_lat, max_long = CITY
    row = int((lat - min_lat) / (max_lat - min_lat) * AREA_ROWS)
    column = int((long - min_long) / (max_long - min_long) * AREA_COLUMNS)
    row, column = min(max(row, 0), AREA_ROWS - 1), min(max(column, 0), AREA_COLUMNS - 1)
    return area_ids[row * AREA_COLUMNS + column]


def requests(service_ids: list[int], area_ids: list[int], start: int, end: int,
             rng: random.Random):
    """Requests number ``start``..``end`` - 1 as dicts of column values (naive UTC times).

    Seven in ten near a hotspot (a dense neighbourhood), the rest anywhere in the box;
    received over the last three years; a fifth open, the rest closed after an
    exponential wait (mean 6 days), 3 % reopened once.
    """
    now = utcnow().replace(tzinfo=None)
    min_lat, min_long, max_lat, max_long = CITY
    for number in range(start, end):
        if rng.random() < 0.7:
            lat0, long0 = rng.choice(HOTSPOTS)
            lat, long = rng.gauss(lat0, 0.01), rng.gauss(long0, 0.012)
        else:
            lat, long = rng.uniform(min_lat, max_lat), rng.uniform(min_long, max_long)
        received = now - timedelta(days=rng.random() * HISTORY_DAYS)
        closed = rng.random() < 0.8
        closed_at = received + timedelta(days=rng.expovariate(1 / 6)) if closed else None
        if closed_at and closed_at > now:
            closed_at = now
        yield {
            "public_id": f"B-{number:07d}",
            "service_id": rng.choice(service_ids),
            "neighborhood_id": neighbourhood_of(lat, long, area_ids),
            "lat": lat,
            "long": long,
            "status": "closed" if closed else "open",
            "detailed_status": "closed" if closed else rng.choice(
                ["submitted", "acknowledged", "in_progress"]),
            "resolution": "fixed" if closed else None,
            "channel": rng.choice(CHANNELS),
            "received_at": received,
            "updated_at": closed_at or received,
            "expected_at": received + timedelta(days=7),
            "closed_at": closed_at,
            "reopen_count": 1 if rng.random() < 0.03 else 0,
            "attribute_values": "{}",
        }


def _columns() -> tuple[list[str], dict]:
    """Every column a seeded row fills, and the constant value of those not drawn."""
    drawn = next(requests([1], [1] * AREA_ROWS * AREA_COLUMNS, 0, 1, random.Random(0)))
    constants = {}
    for column in ServiceRequest.__table__.columns:
        if column.primary_key or column.name in drawn:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            value = default.arg
            constants[column.name] = value.value if hasattr(value, "value") else value
    return [*drawn, *constants], constants


def _secondary_indexes(connection) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the requests' indexes that back no constraint."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'service_requests' "
            "AND schemaname = current_schema() AND indexname NOT IN (SELECT conname FROM "
            "pg_constraint WHERE conrelid = 'service_requests'::regclass)"))
    else:
        rows = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'service_requests' AND sql IS NOT NULL"))
    return [(name, sql) for name, sql in rows]


def grow(service_ids: list[int], area_ids: list[int], start: int, end: int,
         rng: random.Random) -> None:
    """Bulk-insert requests ``start``..``end`` - 1, the secondary indexes dropped meanwhile.

    PostgreSQL: ``COPY … FROM STDIN``; SQLite: ``executemany`` in transactions of
    ``SQLITE_BATCH`` rows (its R*Tree trigger still fires per row). Indexes are made
    again afterwards, each in one sort, as any bulk loader would.
    """
    names, constants = _columns()
    connection = db.session.connection()
    indexes = _secondary_indexes(connection)
    for name, _ in indexes:
        connection.execute(text(f"DROP INDEX {name}"))
    db.session.commit()
    raw = db.session.connection().connection.driver_connection
    rows = (
        tuple({**row, **constants}[name] for name in names)
        for row in requests(service_ids, area_ids, start, end, rng)
    )
    if db.engine.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(
            f"COPY service_requests ({', '.join(names)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in names)
        statement = f"INSERT INTO service_requests ({', '.join(names)}) VALUES ({marks})"
        cursor = raw.cursor()
        while batch := list(itertools.islice(rows, SQLITE_BATCH)):
            cursor.executemany(statement, [
                tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in batch
            ])
            raw.commit()
    db.session.commit()
    connection = db.session.connection()
    for _, create in indexes:
        connection.execute(text(create))
    db.session.commit()


def analyse() -> None:
    """Fresh planner statistics after a bulk load."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def median_ms(action, runs: int, rng: random.Random) -> float:
    """Median wall time of ``action(rng)`` over ``runs`` calls (one warm-up call first)."""
    action(rng)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action(rng)
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return statistics.median(times)


def spot(rng: random.Random) -> tuple[float, float]:
    """A random place near a hotspot."""
    lat0, long0 = rng.choice(HOTSPOTS)
    return lat0 + rng.uniform(-0.01, 0.01), long0 + rng.uniform(-0.01, 0.01)


def read_paths(app, service_ids: list[int]) -> list[tuple[str, object, object]]:
    """(name, app path, baseline) callables for each read path."""
    from webapp.domain.figures import mapread, stats
    from webapp.domain.geo import places
    from webapp.domain.lifecycle import queue
    from webapp.open311.params import RequestQuery
    from webapp.open311.queries import find_requests

    city_bbox = (CITY[1], CITY[0], CITY[3], CITY[2])
    list_sql = text(
        "SELECT id, public_id, lat, long, detailed_status, received_at FROM service_requests "
        "WHERE lat BETWEEN :a AND :b AND long BETWEEN :c AND :d "
        "ORDER BY received_at DESC, id DESC LIMIT :n"
    )
    nearest_sql = text(
        "SELECT id FROM service_requests WHERE lat BETWEEN :a AND :b AND long BETWEEN :c AND :d "
        "AND detailed_status <> 'closed' "
        "ORDER BY (lat - :lat) * (lat - :lat) + (long - :long) * (long - :long) LIMIT 10"
    )
    queue_sql = text(
        "SELECT id FROM service_requests WHERE detailed_status IN "
        "('submitted', 'acknowledged', 'in_progress') ORDER BY received_at, id LIMIT 50"
    )
    cell = mapread.cell_degrees(11)
    grid_sql = text(
        "SELECT CAST((long + 180.0) / :cell AS INTEGER) AS gx, "
        "CAST((lat + 90.0) / :cell AS INTEGER) AS gy, count(*), avg(lat), avg(long), min(id) "
        "FROM service_requests WHERE lat BETWEEN :a AND :b AND long BETWEEN :c AND :d "
        "AND received_at >= :since GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 2000"
    )
    stats_sql = text(
        "SELECT service_id, count(*), sum(CASE WHEN closed_at <= expected_at THEN 1 ELSE 0 END) "
        "FROM service_requests GROUP BY service_id"
    )

    def box(lat, long, half_deg):
        return {"a": lat - half_deg, "b": lat + half_deg, "c": long - half_deg,
                "d": long + half_deg}

    def neighbourhood(rng):
        lat, long = spot(rng)
        mapread.page(mapread.MapFilters(bbox=(long - 0.006, lat - 0.0045, long + 0.006,
                                              lat + 0.0045)), page_size=100)

    def neighbourhood_sql(rng):
        lat, long = spot(rng)
        db.session.execute(list_sql, {**box(lat, long, 0.005), "n": 100}).all()

    def whole_city(rng):
        mapread.clusters(mapread.MapFilters(bbox=city_bbox), 11)

    long_ago = utcnow() - timedelta(days=3650)
    last_month = utcnow() - timedelta(days=30)

    def city_grid_sql(since):
        db.session.execute(grid_sql, {"a": CITY[0], "b": CITY[2], "c": CITY[1], "d": CITY[3],
                                      "cell": cell, "since": since}).all()

    def whole_city_sql(rng):
        city_grid_sql(long_ago)

    def one_service(rng):
        mapread.clusters(mapread.MapFilters(bbox=city_bbox, service_code="s3"), 11)

    def one_service_sql(rng):
        db.session.execute(
            text(str(grid_sql).replace("AND received_at", "AND service_id = :service AND "
                                       "received_at")),
            {"a": CITY[0], "b": CITY[2], "c": CITY[1], "d": CITY[3], "cell": cell,
             "since": long_ago, "service": service_ids[3]},
        ).all()

    def last_30_days(rng):
        mapread.clusters(mapread.MapFilters(bbox=city_bbox, since=last_month), 11)

    def last_30_days_sql(rng):
        city_grid_sql(last_month)

    def nearby(rng):
        places.nearby_open_requests(*spot(rng), 2000, limit=10)

    def nearby_sql(rng):
        lat, long = spot(rng)
        db.session.execute(nearest_sql, {**box(lat, long, 0.022), "lat": lat, "long": long}).all()

    def staff_queue(rng):
        queue.search(queue.QueueFilters())

    def staff_queue_sql(rng):
        db.session.execute(queue_sql).all()

    def stats_page(rng):
        window = stats.windows()
        stats.per_service(window.month_start, since=window.year_start)
        stats.weekly(window.year_start, window.today)
        stats.by_channel(window.year_start)

    def stats_sql_run(rng):
        db.session.execute(stats_sql).all()

    def radius(rng):
        lat, long = spot(rng)
        find_requests(RequestQuery(near=(lat, long, 500), page_size=50))

    def radius_sql(rng):
        lat, long = spot(rng)
        db.session.execute(list_sql, {**box(lat, long, 0.0055), "n": 50}).all()

    return [
        ("map read, neighbourhood", neighbourhood, neighbourhood_sql),
        ("map, whole city (clusters)", whole_city, whole_city_sql),
        ("clusters, one service", one_service, one_service_sql),
        ("clusters, last 30 days", last_30_days, last_30_days_sql),
        ("nearby 2 km", nearby, nearby_sql),
        ("staff queue", staff_queue, staff_queue_sql),
        ("/stats", stats_page, stats_sql_run),
        ("Open311 radius 500 m", radius, radius_sql),
    ]


def run_backend(label: str, app, sizes: list[int], runs: int, only: str = "") -> list[tuple]:
    """Grow the database through ``sizes`` and time every path at each."""
    from webapp.domain.figures import rollups

    rows = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        service_ids = seed_services()
        area_ids = seed_neighbourhoods()
        rng = random.Random(311)
        have = 0
        for size in sizes:
            started = time.perf_counter()
            grow(service_ids, area_ids, have, size, rng)
            loaded = time.perf_counter()
            have = size
            rollups.rebuild()
            rebuilt = time.perf_counter()
            analyse()
            print(f"[{label}] {size:,} requests: inserted in {loaded - started:.0f} s, rollups "
                  f"rebuilt in {rebuilt - loaded:.0f} s, analysed in "
                  f"{time.perf_counter() - rebuilt:.0f} s", flush=True)
            with app.test_request_context():
                for name, path, baseline in read_paths(app, service_ids):
                    if only and only not in name:
                        continue
                    ours = median_ms(path, runs, random.Random(size))
                    theirs = median_ms(baseline, runs, random.Random(size))
                    rows.append((label, size, name, ours, theirs))
                    print(f"  {name:<28} {ours:9.1f} ms   baseline {theirs:9.1f} ms", flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def time_existing(url: str, runs: int, only: str) -> None:
    """Time every read path (or those naming ``only``) on data a ``--keep`` run left."""
    app = create_app(settings(url, {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}))
    with app.app_context(), app.test_request_context():
        size = db.session.query(func.count(ServiceRequest.id)).scalar()
        service_ids = list(db.session.scalars(select(Service.id).order_by(Service.id)))
        print(f"PostgreSQL schema {SCHEMA}: {size:,} requests")
        for name, path, baseline in read_paths(app, service_ids):
            if only and only not in name:
                continue
            ours = median_ms(path, runs, random.Random(size))
            theirs = median_ms(baseline, runs, random.Random(size))
            print(f"  {name:<28} {ours:9.1f} ms   baseline {theirs:9.1f} ms", flush=True)


def main() -> None:
    """Parse the sizes, run each backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--pg-sizes", default="100000,1000000,3400000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--only", default="", help="time only the read paths naming this")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the PostgreSQL schema {SCHEMA} (and its data) at the end")
    parser.add_argument("--existing", action="store_true",
                        help=f"time the read paths on the PostgreSQL schema {SCHEMA} a --keep "
                             "run left, without seeding")
    args = parser.parse_args()
    if args.existing:
        time_existing(args.pg, args.runs, args.only)
        return
    table = []
    if not args.no_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        app = create_app(settings(f"sqlite:///{folder / 'scale.db'}"))
        table += run_backend("SQLite", app, [int(s) for s in args.sizes.split(",")], args.runs,
                             args.only)
    if not args.no_pg:
        admin = create_engine(args.pg)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        try:
            app = create_app(settings(args.pg, {"connect_args": {
                "options": f"-csearch_path={SCHEMA}"}}))
            table += run_backend("PostgreSQL", app,
                                 [int(s) for s in args.pg_sizes.split(",")], args.runs,
                                 args.only)
        finally:
            if not args.keep:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
    print()
    print(f"{'database':<11}{'requests':>10}  {'read path':<28}{'ours ms':>10}{'baseline ms':>13}"
          f"{'target ms':>11}")
    for label, size, name, ours, theirs in table:
        target = TARGETS.get(name)
        print(f"{label:<11}{size:>10,}  {name:<28}{ours:>10.1f}{theirs:>13.1f}"
              f"{target if target else '-':>11}")


if __name__ == "__main__":
    main()
