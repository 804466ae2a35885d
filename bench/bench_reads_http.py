"""The reads that used to grow with the city, served for real at a hotspot, beside the obvious SQL.

    .venv/bin/python bench/bench_reads_http.py [--pg URL] [--schema bench_scale] [--seconds 10]
                                               [--runs 15] [--size 100000] [--keep]

Reads a city that ``bench_scale.py --keep`` left in ``--schema`` (100k or 3.4M requests,
seven in ten around five hotspots); when the schema holds none, it grows one of
``--size`` requests there first the same way (bulk load, rollups rebuilt, then
``VACUUM ANALYZE`` as autovacuum would have done on a running city), and drops it at the
end unless ``--keep``. It serves the city with gunicorn and the shipped
``gunicorn.conf.py`` (started outside the project folder, ``--chdir`` to it), and times
each path over HTTP with Debian's ``wrk`` (one connection, so the figure is one
request's latency, not a queue; ``--seconds`` each, after a warm-up call):

- Open311 ``requests.json?lat&long&radius=500`` at the busiest hotspot, the default
  page of 1,000 requests, newest first;
- map clusters at zoom 15 over a phone's view (390 × 844 px) of that hotspot;
- map clusters of the whole city at zoom 11 for the last 30 days (``since``).

Beside each, the obvious SQL for the same job, run ``--runs`` times straight through
psycopg (the median): the box and ``ORDER BY received_at DESC LIMIT 1000``, and a
``GROUP BY`` of the requests on the zoom's grid. Prints the median and 99th percentile
latency from ``wrk``, the SQL median and the load average before and after each path
(the machine is shared: the figures are only as quiet as it was).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parent.parent
HOTSPOT = (35.045, -85.31)
CITY_BBOX = "-85.42,34.98,-85.04,35.19"
# A phone's view (390 x 844 px) at zoom 15 around the hotspot, in degrees.
VIEW_HALF_LONG, VIEW_HALF_LAT = 0.00837, 0.01485


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def paths(since: str) -> list[tuple[str, str]]:
    """(name, path) of each timed read."""
    lat, long = HOTSPOT
    view = (
        f"{long - VIEW_HALF_LONG:.5f},{lat - VIEW_HALF_LAT:.5f},"
        f"{long + VIEW_HALF_LONG:.5f},{lat + VIEW_HALF_LAT:.5f}"
    )
    return [
        ("Open311 radius 500 m (1,000 rows)",
         f"/open311/v2/requests.json?lat={lat}&long={long}&radius=500"),
        ("clusters zoom 15, downtown", f"/api/v1/requests/clusters?bbox={view}&zoom=15"),
        ("clusters city, last 30 days",
         f"/api/v1/requests/clusters?bbox={CITY_BBOX}&zoom=11&since={quote(since)}"),
    ]  # fmt: skip


def obvious_sql(since_moment: datetime) -> list[tuple[str, dict]]:
    """The obvious SQL for each path, in the same order."""
    lat, long = HOTSPOT
    d_lat, d_long = 500 / 111_320, 500 / (111_320 * 0.8187)
    grid = (
        "SELECT floor((long + 180.0) / %(cell)s) AS gx, floor((lat + 90.0) / %(cell)s) AS gy, "
        "count(*), avg(lat), avg(long), min(id) FROM service_requests "
        "WHERE lat BETWEEN %(a)s AND %(b)s AND long BETWEEN %(c)s AND %(d)s {extra}"
        "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 2000"
    )
    return [
        (
            "SELECT * FROM service_requests WHERE lat BETWEEN %(a)s AND %(b)s "
            "AND long BETWEEN %(c)s AND %(d)s ORDER BY received_at DESC, id DESC LIMIT 1000",
            {"a": lat - d_lat, "b": lat + d_lat, "c": long - d_long, "d": long + d_long},
        ),
        (
            grid.format(extra=""),
            {"cell": 360 / 2**15 / 4, "a": lat - VIEW_HALF_LAT, "b": lat + VIEW_HALF_LAT,
             "c": long - VIEW_HALF_LONG, "d": long + VIEW_HALF_LONG},
        ),
        (
            grid.format(extra="AND received_at >= %(since)s "),
            {"cell": 360 / 2**11 / 4, "a": 34.98, "b": 35.19, "c": -85.42, "d": -85.04,
             "since": since_moment.replace(tzinfo=None)},
        ),
    ]  # fmt: skip


def serve(
    database_url: str, folder: Path, settings: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn with the shipped gunicorn.conf.py, started outside the project folder
    (``settings``: more environment variables for the app)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(folder),
        "UPLOAD_DIR": str(folder / "uploads"),
        "BACKGROUND_WORKER": "off",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1",
        **(settings or {}),
    }
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(ROOT),
         "webapp:create_app()"],
        env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/services", timeout=10) as reply:
                if reply.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def fetch(url: str) -> tuple[int, int]:
    """(status, body bytes) of one GET."""
    with urllib.request.urlopen(url, timeout=120) as reply:
        return reply.status, len(reply.read())


def wrk(url: str, seconds: int) -> dict:
    """One connection for ``seconds``: median and 99th percentile latency, requests."""
    out = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", "--timeout", "60s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found is None:
            return float("nan")
        value, unit = float(found[1]), found[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": ms("50%"),
        "p99": ms("99%"),
        "requests": int(requests[1]) if requests else 0,
        "bad": int(bad[1]) if bad else 0,
    }


def sql_median(url: str, schema: str, sql: str, params: dict, runs: int) -> float:
    """Median wall time of the SQL over ``runs`` runs (one warm-up first), in ms."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, options=f"-csearch_path={schema}") as connection:
        connection.execute(sql, params).fetchall()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            connection.execute(sql, params).fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def existing_size(url: str, schema: str) -> int:
    """How many requests the schema holds (0 when it has no tables)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, options=f"-csearch_path={schema}") as connection:
        found = connection.execute("SELECT to_regclass('service_requests')").fetchone()[0]
        if found is None:
            return 0
        return connection.execute("SELECT count(*) FROM service_requests").fetchone()[0]


def grow_city(url: str, schema: str, size: int) -> None:
    """A city of ``size`` requests in ``schema``, as ``bench_scale.py`` grows one."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_scale
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.domain.figures import rollups
    from webapp.plumbing.extensions import db

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    app = create_app(
        bench_scale.settings(url, {"connect_args": {"options": f"-csearch_path={schema}"}})
    )
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        services, areas = bench_scale.seed_services(), bench_scale.seed_neighbourhoods()
        bench_scale.grow(services, areas, 0, size, random.Random(311))
        rollups.rebuild()
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(plain, autocommit=True, options=f"-csearch_path={schema}") as connection:
        for table in ("service_requests", "request_events", "photos", "map_cell_rollups"):
            connection.execute(f"VACUUM ANALYZE {table}")
    print(f"grew {size:,} requests in {schema} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    """Serve, time each path and its SQL, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--schema", default="bench_scale")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, default=100_000,
                        help="requests to grow when the schema holds none")
    parser.add_argument("--keep", action="store_true",
                        help="keep a city this run grew (it is dropped otherwise)")
    args = parser.parse_args()
    grown = existing_size(args.pg, args.schema) == 0
    if grown:
        grow_city(args.pg, args.schema, args.size)
    try:
        run(args)
    finally:
        if grown and not args.keep:
            plain = args.pg.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA IF EXISTS {args.schema} CASCADE")


def run(args: argparse.Namespace) -> None:
    """Serve the city, time each path and its SQL, print the table."""
    since_moment = datetime.now(UTC) - timedelta(days=30)
    since = since_moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    plain = args.pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, options=f"-csearch_path={args.schema}") as connection:
        size = connection.execute("SELECT count(*) FROM service_requests").fetchone()[0]
    folder = Path(tempfile.mkdtemp(prefix="bench-reads-"))
    served = f"{args.pg}?options={quote(f'-csearch_path={args.schema}')}"
    process, base = serve(served, folder)
    rows = []
    try:
        for (name, path), (sql, params) in zip(
            paths(since), obvious_sql(since_moment), strict=True
        ):
            before = load_average()
            status, size_bytes = fetch(base + path)
            timed = wrk(base + path, args.seconds)
            sql_ms = sql_median(args.pg, args.schema, sql, params, args.runs)
            rows.append((name, status, size_bytes, timed, sql_ms, before, load_average()))
            print(f"{name:<36} HTTP {status} {size_bytes:>9,} B  p50 {timed['p50']:7.1f} ms  "
                  f"p99 {timed['p99']:7.1f} ms  ({timed['requests']} requests, "
                  f"{timed['bad']} non-2xx)  SQL {sql_ms:7.1f} ms  load {before} -> "
                  f"{rows[-1][-1]}", flush=True)  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=60)
    print()
    print(f"{size:,} requests, PostgreSQL, gunicorn shipped config, wrk -t1 -c1 -d{args.seconds}s")
    print("| path | app p50 ms | app p99 ms | obvious SQL ms | load before → after |")
    print("|---|---|---|---|---|")
    for name, _status, _bytes, timed, sql_ms, before, after in rows:
        print(
            f"| {name} | {timed['p50']:.1f} | {timed['p99']:.1f} | {sql_ms:.1f} | "
            f"{before} → {after} |"
        )


if __name__ == "__main__":
    sys.exit(main())
