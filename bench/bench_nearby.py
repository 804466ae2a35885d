"""Benchmark the nearby search on 100,000 requests, SQLite and PostgreSQL, in one run.

    .venv/bin/python bench/bench_nearby.py [--requests N] [--queries N] [--pg URL]

Seeds N requests (bulk insert) spread over the demo city box, then times
``places.nearby_open_requests`` (indexed bounding-box prefilter, exact distance, the 10
nearest loaded) at random points, against the baseline of the same search without the
prefilter (every open request's distance computed). Prints both medians, the ratio and
the query plans that show the index is used. Target: median ≤ 10 ms.

PostgreSQL runs when the URL answers (default: the ``test_photos`` database), inside
a schema of its own (``bench_nearby``) that is dropped afterwards.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.config import TestingConfig  # noqa: E402
from webapp.domain import places  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Service, ServiceRequest, Status, utcnow  # noqa: E402

CITY_BOX = (35.00, -85.35, 35.10, -85.25)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test_photos"
SCHEMA = "bench_nearby"
RADIUS_M = 200


def _settings(url: str, engine_options: dict | None = None) -> dict:
    """Test settings pointed at ``url``."""
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings["SQLALCHEMY_DATABASE_URI"] = url
    if engine_options:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return settings


def seed(count: int) -> None:
    """Migrate (spatial indexes included) and bulk-insert ``count`` requests (a tenth closed)."""
    from flask_migrate import upgrade

    upgrade()
    services = [Service(service_code=f"s{n}", name=f"Service {n}") for n in range(3)]
    db.session.add_all(services)
    db.session.flush()
    rng = random.Random(311)
    now = utcnow()
    min_lat, min_long, max_lat, max_long = CITY_BOX
    batch = []
    for number in range(count):
        closed = rng.random() < 0.1
        batch.append(
            {
                "public_id": f"311-{number + 1:06d}",
                "service_id": services[number % 3].id,
                "description": "seeded",
                "lat": rng.uniform(min_lat, max_lat),
                "long": rng.uniform(min_long, max_long),
                "status": "closed" if closed else "open",
                "detailed_status": Status.CLOSED if closed else Status.SUBMITTED,
                "received_at": now,
                "updated_at": now,
                "attribute_values": {},
            }
        )
        if len(batch) == 10_000:
            db.session.execute(insert(ServiceRequest), batch)
            batch = []
    if batch:
        db.session.execute(insert(ServiceRequest), batch)
    db.session.commit()


def full_scan(lat: float, long: float, radius_m: float) -> list[tuple[float, int]]:
    """Baseline: every open request's distance in Python, no prefilter."""
    hits = []
    for request_id, row_lat, row_long in db.session.execute(
        select(ServiceRequest.id, ServiceRequest.lat, ServiceRequest.long).where(
            ServiceRequest.detailed_status != Status.CLOSED
        )
    ):
        distance = places.distance_m(lat, long, row_lat, row_long)
        if distance <= radius_m:
            hits.append((distance, request_id))
    return sorted(hits)[:10]


def prefilter_only(lat: float, long: float, radius_m: float) -> list[tuple[float, int]]:
    """The indexed half alone: prefilter rows and exact distances, no objects loaded."""
    hits = []
    for request_id, row_lat, row_long, _service in db.session.execute(
        places.nearby_prefilter(lat, long, radius_m)
    ):
        distance = places.distance_m(lat, long, row_lat, row_long)
        if distance <= radius_m:
            hits.append((distance, request_id))
    return sorted(hits)[:10]


def time_queries(points: list[tuple[float, float]]) -> tuple[float, float, float, int]:
    """Median ms of the indexed search (whole, and SQL + distance only) and of the
    baseline, checking that they agree."""
    indexed, scanned, ids_only, found = [], [], [], 0
    for lat, long in points:
        start = time.perf_counter()
        prefilter_only(lat, long, RADIUS_M)
        ids_only.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        result = places.nearby_open_requests(lat, long, RADIUS_M)
        indexed.append((time.perf_counter() - start) * 1000)
        db.session.expunge_all()
        found += len(result)
    for lat, long in points[: max(5, len(points) // 10)]:
        start = time.perf_counter()
        baseline = full_scan(lat, long, RADIUS_M)
        scanned.append((time.perf_counter() - start) * 1000)
        ids = [item.request.id for item in places.nearby_open_requests(lat, long, RADIUS_M)]
        assert ids == [request_id for _, request_id in baseline], "searches disagree"
    return (
        statistics.median(indexed),
        statistics.median(ids_only),
        statistics.median(scanned),
        found,
    )


def explain(dialect: str) -> list[str]:
    """The plan of the prefilter query, as the database prints it."""
    query = places.nearby_prefilter(35.05, -85.3, RADIUS_M)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    rows = db.session.execute(text(prefix + str(compiled))).all()
    return [str(row[-1]) for row in rows]


def run(label: str, settings: dict, count: int, queries: int) -> dict:
    """Seed, analyse, explain and time one backend."""
    app = create_app(settings)
    with app.app_context():
        start = time.perf_counter()
        seed(count)
        seeded = time.perf_counter() - start
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        rng = random.Random(5)
        min_lat, min_long, max_lat, max_long = CITY_BOX
        points = [
            (rng.uniform(min_lat, max_lat), rng.uniform(min_long, max_long)) for _ in range(queries)
        ]
        indexed, ids_only, scanned, found = time_queries(points)
        plan = explain(db.engine.dialect.name)
        db.session.remove()
        db.engine.dispose()
    return {
        "label": label,
        "seeded_s": seeded,
        "indexed": indexed,
        "ids_only": ids_only,
        "scanned": scanned,
        "found": found / queries,
        "plan": plan,
    }


def pg_settings(url: str) -> dict | None:
    """Settings for a private schema on PostgreSQL, or None when it does not answer."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        print(f"PostgreSQL not used ({url}): {error.__class__.__name__}")
        return None
    return _settings(url, {"connect_args": {"options": f"-csearch_path={SCHEMA}"}})


def drop_pg_schema(url: str) -> None:
    """Remove the benchmark's schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


def main(argv: list[str]) -> None:
    """Run on SQLite and (when reachable) PostgreSQL and print the table and plans."""

    def option(name: str, default: str) -> str:
        """The value after ``name`` on the command line."""
        return argv[argv.index(name) + 1] if name in argv else default

    count = int(option("--requests", "100000"))
    queries = int(option("--queries", "200"))
    pg_url = option("--pg", DEFAULT_PG)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run("SQLite", _settings(f"sqlite:///{folder}/bench.db"), count, queries))
    settings = pg_settings(pg_url)
    if settings is not None:
        try:
            results.append(run("PostgreSQL", settings, count, queries))
        finally:
            drop_pg_schema(pg_url)
    print(f"{count} requests over the city box, {queries} random points, radius {RADIUS_M} m")
    print()
    print(
        f"{'backend':<12}{'seed s':>8}{'full scan ms':>14}{'indexed ms':>12}{'ratio':>9}"
        f"{'SQL+distance ms':>17}{'hits/query':>12}"
    )
    for r in results:
        print(
            f"{r['label']:<12}{r['seeded_s']:>8.1f}{r['scanned']:>14.1f}{r['indexed']:>12.2f}"
            f"{r['scanned'] / r['indexed']:>8.1f}x{r['ids_only']:>17.2f}{r['found']:>12.1f}"
        )
    print("indexed ms: the whole search as the API runs it (the 10 nearest loaded as objects)")
    for r in results:
        print()
        print(f"{r['label']} plan of the prefilter:")
        for line in r["plan"]:
            print(f"  {line}")
    print()
    worst = max(r["indexed"] for r in results)
    print(f"target: median <= 10 ms ({'met' if worst <= 10 else 'NOT met'})")


if __name__ == "__main__":
    main(sys.argv[1:])
