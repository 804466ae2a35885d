"""Open-data downloads under gunicorn (shipped config): can they stall the site?

    .venv/bin/python bench/bench_downloads.py [--requests 100000] [--pulls 8]
        [--max-rows 50000] [--pg URL | --sqlite]

Seeds ``--requests`` requests by bulk load (as ``bench_scale.py``: PostgreSQL ``COPY`` in a
schema of its own, ``bench_downloads``, dropped at the end; or a SQLite file with
``--sqlite``), publishes the open data with the export job (timed: the nightly cost), then
serves the app under gunicorn with the project's ``gunicorn.conf.py`` (threaded workers)
and, for each scenario, fires ``--pulls`` downloads at once while a client times
``GET /api/v1/services`` (the read a phone makes on opening the report form):

- old window: ``/export/requests.csv?updated_after=2000-01-01`` — the whole city, which
  used to be streamed on the spot (228 s a pull at 3.4M); now counted and refused;
- the full download: the published file, sent with its Content-Length;
- the biggest window allowed: an ``updated_after`` holding just under ``EXPORT_MAX_ROWS``
  requests, computed on the spot (the worst an anonymous caller can ask for);

The baseline is ``/api/v1/services`` timed alone in the same run. Prints per scenario the
status codes, the slowest pull, and the services read's median and worst time during the
pulls, with the load average. Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_scale  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.domain.figures import exports  # noqa: E402
from webapp.models import ServiceRequest  # noqa: E402
from webapp.plumbing.config import Config  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

SCHEMA = "bench_downloads"
SERVICES = "/api/v1/services"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, int, float]:
    """GET ``url`` to the end: (status, bytes, seconds)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=600) as reply:
            size = 0
            while chunk := reply.read(1 << 16):
                size += len(chunk)
            status = reply.status
    except urllib.error.HTTPError as error:
        size, status = len(error.read()), error.code
    return status, size, time.perf_counter() - started


def seed(app, count: int, folder: Path, cap: int) -> tuple[str, float]:
    """Bulk-load ``count`` requests, publish the exports; returns (a window date, seconds)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        services, areas = bench_scale.seed_services(), bench_scale.seed_neighbourhoods()
        bench_scale.grow(services, areas, 0, count, random.Random(311))
        bench_scale.analyse()
        edge = db.session.scalar(
            select(ServiceRequest.updated_at)
            .order_by(ServiceRequest.updated_at.desc())
            .offset(min(cap, count) - 10)
            .limit(1)
        )
        started = time.perf_counter()
        exports.publish(folder / "exports")
        published = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return edge.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z", published


def serve(env: dict, folder: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn with the shipped gunicorn.conf.py, started outside the project folder."""
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(ROOT),
         "webapp:create_app()"],
        env={**os.environ, **env}, cwd=folder,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if fetch(base + SERVICES)[0] == 200:
                return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def services_times(base: str, until: threading.Event, least: int) -> list[float]:
    """Time the services read again and again until ``until`` is set (at least ``least``)."""
    times = []
    while not until.is_set() or len(times) < least:
        status, _size, seconds = fetch(base + SERVICES)
        if status != 200:
            raise SystemExit(f"{SERVICES} answered {status}")
        times.append(seconds * 1000)
    return times


def scenario(base: str, path: str, pulls: int) -> tuple[list, list[float]]:
    """``pulls`` downloads of ``path`` at once while the services read is timed."""
    done = threading.Event()
    results: list = []
    timer_result: list = []
    timer = threading.Thread(
        target=lambda: timer_result.extend(services_times(base, done, 10)), daemon=True
    )
    workers = [
        threading.Thread(target=lambda: results.append(fetch(base + path)), daemon=True)
        for _ in range(pulls)
    ]
    timer.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    timer.join()
    return results, timer_result


def main() -> None:
    """Seed, publish, serve, run each scenario, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--pulls", type=int, default=8)
    parser.add_argument(
        "--max-rows", type=int, default=Config.EXPORT_MAX_ROWS,
        help="EXPORT_MAX_ROWS of the served app (lower it to see refusals on a small city)",
    )
    parser.add_argument("--pg", default=bench_scale.DEFAULT_PG)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-downloads-"))
    admin = None
    try:
        if args.sqlite:
            url, options = f"sqlite:///{folder / 'downloads.db'}", None
            served_url = url
        else:
            admin = create_engine(args.pg)
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            url, options = args.pg, {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}
            served_url = f"{args.pg}?options={quote(f'-csearch_path={SCHEMA}')}"
        settings = bench_scale.settings(url, options)
        settings.update(INSTANCE_DIR=str(folder), UPLOAD_DIR=str(folder / "uploads"))
        started = time.perf_counter()
        window, published = seed(create_app(settings), args.requests, folder, args.max_rows)
        print(f"seeded {args.requests:,} requests in {time.perf_counter() - started:.0f} s; "
              f"export job (full + change files) {published:.1f} s", flush=True)
        env = {
            "DATABASE_URL": served_url, "INSTANCE_DIR": str(folder),
            "UPLOAD_DIR": str(folder / "uploads"), "EXPORT_DIR": str(folder / "exports"),
            "BACKGROUND_WORKER": "off", "SECRET_KEY": secrets.token_urlsafe(48),
            "PUBLIC_URL": "http://127.0.0.1", "RATELIMIT_EXPORT": "1000 per hour",
            "EXPORT_MAX_ROWS": str(args.max_rows),
        }  # fmt: skip
        process, base = serve(env, folder)
        try:
            alone = [fetch(base + SERVICES)[2] * 1000 for _ in range(20)]
            rows = []
            for name, path in [
                ("old window (updated_after=2000)", "/export/requests.csv?updated_after=2000-01-01T00:00:00Z"),
                ("full download (published file)", "/export/requests.csv"),
                ("biggest window allowed", f"/export/requests.csv?updated_after={window}"),
            ]:  # fmt: skip
                results, during = scenario(base, path, args.pulls)
                counted = Counter(status for status, _size, _s in results)
                codes = " ".join(f"{code}×{n}" for code, n in sorted(counted.items()))
                slowest = max(seconds for _status, _size, seconds in results)
                size = max(size for _status, size, _s in results)  # the longest answer
                rows.append((name, codes, size, slowest, statistics.median(during), max(during)))
                print(f"  {name}: done", flush=True)
        finally:
            process.terminate()
            process.wait(30)
        print()
        backend = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"{backend}, {args.requests:,} requests, {args.pulls} pulls at once, gunicorn "
              f"gunicorn.conf.py, EXPORT_MAX_ROWS {args.max_rows:,}, EXPORT_CONCURRENCY "
              f"{Config.EXPORT_CONCURRENCY}")
        print(f"{'scenario':<34}{'answers':>14}{'bytes':>12}{'slowest s':>11}"
              f"{'services ms median':>20}{'worst':>8}")
        for name, codes, size, slowest, median, worst in rows:
            print(f"{name:<34}{codes:>14}{size:>12,}{slowest:>11.2f}"
                  f"{median:>20.1f}{worst:>8.1f}")
        print(f"{'baseline: services alone':<34}{'':>14}{'':>12}{'':>11}"
              f"{statistics.median(alone):>20.1f}{max(alone):>8.1f}")
        print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
              f"(1, 5, 15 min) on {os.cpu_count()} cores")
    finally:
        if admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
