"""Staff queue on 100,000 requests: median time of the default queue page.

Seeds 100,000 requests by bulk insert into a temporary SQLite file (and into the
PostgreSQL database named by BENCH_DATABASE_URL, default test_staff, when it answers),
then times GET /staff/ (default filters, first page, signed in as staff, through the
test client) against a baseline measured in the same run: the naive approach of
loading every open request, then filtering, sorting and paging in Python.

Run: .venv/bin/python bench/bench_queue.py [--rows 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from tests import factories  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.config import TestingConfig  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import ServiceRequest, Status, utcnow  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test_staff"
STATUSES = [Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CLOSED]
WEIGHTS = [3, 2, 1, 4]
TARGET_MS = 100.0


def settings(url: str, tmp: str) -> dict:
    """Test settings pointed at ``url``."""
    base = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    base.update(SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=f"{tmp}/uploads", INSTANCE_DIR=tmp)
    return base


def seed(app, rows: int) -> None:
    """A city, a staff account and ``rows`` requests inserted in bulk."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        city = factories.gen_city()
        factories.gen_user("staff", email="bench@city.gov")
        db.session.commit()
        services = [city["pothole"].id, city["graffiti"].id, city["streetlight"].id]
        hoods = [city["west"].id, city["east"].id]
        now = utcnow()
        rng = random.Random(311)
        batch = []
        for number in range(1, rows + 1):
            status = rng.choices(STATUSES, WEIGHTS)[0]
            received = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            batch.append(
                {
                    "public_id": f"311-{number:06d}",
                    "service_id": rng.choice(services),
                    "description": "Seeded for the benchmark",
                    "lat": 35.0 + rng.random() * 0.1,
                    "long": -85.35 + rng.random() * 0.1,
                    "status": "closed" if status == Status.CLOSED else "open",
                    "detailed_status": status,
                    "department_id": city["department"].id,
                    "neighborhood_id": rng.choice(hoods),
                    "channel": "pwa",
                    "geocode_state": "done",
                    "received_at": received,
                    "updated_at": received,
                    "expected_at": received + timedelta(days=5),
                    "closed_at": received + timedelta(days=3) if status == Status.CLOSED else None,
                    "reopened": rng.random() < 0.02,
                    "attribute_values": {},
                }
            )
            if len(batch) == 5000:
                db.session.execute(insert(ServiceRequest), batch)
                batch = []
        if batch:
            db.session.execute(insert(ServiceRequest), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE service_requests"))
        else:
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))


def time_queue(app, repeat: int) -> float:
    """Median ms of GET /staff/ for a signed-in staff member."""
    client = app.test_client()
    response = client.post(
        "/auth/sign-in", data={"email": "bench@city.gov", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    timings = []
    for _ in range(repeat + 2):
        start = time.perf_counter()
        response = client.get("/staff/")
        response.get_data()
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(timings[2:])


def time_naive(app, repeat: int) -> float:
    """Median ms of the naive queue: load every open request, sort and page in Python."""
    timings = []
    with app.app_context():
        for _ in range(max(3, repeat // 3)):
            db.session.expunge_all()
            start = time.perf_counter()
            rows = db.session.scalars(
                select(ServiceRequest).where(ServiceRequest.detailed_status != Status.CLOSED)
            ).all()
            page = sorted(rows, key=lambda r: r.received_at)[:50]
            _names = [(r.public_id, r.service.name, len(rows)) for r in page]
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def pg_reachable(url: str) -> bool:
    """True when something answers on the PostgreSQL host and port."""
    parts = urlsplit(url.replace("+psycopg", ""))
    try:
        with socket.create_connection((parts.hostname, parts.port or 5432), 1):
            return True
    except OSError:
        return False


def reset_pg(url: str) -> None:
    """Empty the PostgreSQL database (it is a throwaway test database)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    """Seed, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        pg_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        if pg_reachable(pg_url):
            reset_pg(pg_url)
            targets.append(("postgresql", pg_url))
        else:
            print(f"SKIPPED PostgreSQL: nothing answers at {pg_url}")
        for name, url in targets:
            app = create_app(settings(url, tmp))
            started = time.perf_counter()
            seed(app, args.rows)
            seeded = time.perf_counter() - started
            queue_ms = time_queue(app, args.repeat)
            naive_ms = time_naive(app, args.repeat)
            results.append((name, args.rows, seeded, queue_ms, naive_ms))
            with app.app_context():
                db.engine.dispose()
    print()
    print(
        f"{'database':<12}{'rows':>9}{'seed s':>9}{'queue ms':>11}{'naive ms':>11}"
        f"{'ratio':>8}  target ≤{TARGET_MS:.0f} ms"
    )
    for name, rows, seeded, queue_ms, naive_ms in results:
        verdict = "ok" if queue_ms <= TARGET_MS else "SLOW"
        print(
            f"{name:<12}{rows:>9}{seeded:>9.1f}{queue_ms:>11.1f}{naive_ms:>11.1f}"
            f"{naive_ms / queue_ms:>7.1f}x  {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
