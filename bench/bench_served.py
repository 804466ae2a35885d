"""The map read served for real: gunicorn (2 sync workers) + wrk, app vs stack floor.

    .venv/bin/python bench/bench_served.py [--requests 300] [--seconds 5] [--rounds 2]

Seeds the demo city (``seed_demo``) into a fresh SQLite database through the real
migrations, then serves, one after the other in each round:

- the app (``webapp:create_app()``) answering the map read
  ``/api/v1/requests?bbox=<whole demo city>&page_size=100`` — the full path, no
  conditional request, so nothing is answered from an ETag;
- the stack floor (``bench/stack_floor.py``): bare Flask + sqlite3 returning the same
  100 rows with one SQL query and ``jsonify``.

Each is loaded by Debian's ``wrk`` (2 threads, 8 connections) for ``--seconds``; the
rounds interleave app and floor so machine noise hits both. Prints requests per second
per round, the medians and the ratio app / floor (target ≥ 0.5). Everything started is
stopped at the end; the database lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BBOX = "-85.42,34.98,-85.04,35.19"
PATH = f"/api/v1/requests?bbox={BBOX}&page_size=100"
WORKERS = 2


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database: Path, count: int, instance: Path) -> None:
    """Migrate a fresh SQLite database and seed the demo city into it."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.plumbing.extensions import db
    from webapp.seed.demo import seed_demo

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "INSTANCE_DIR": str(instance),
            "UPLOAD_DIR": str(instance / "uploads"),
            "BACKGROUND_WORKER": "off",
        }
    )
    with app.app_context():
        upgrade()
        seed_demo(count)
        db.session.remove()
        db.engine.dispose()


def serve(app_spec: str, env: dict, chdir: Path) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with WORKERS sync workers; wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers", str(WORKERS), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--chdir", str(chdir), app_spec,
        ],
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=5) as reply:
                if reply.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"{app_spec} did not start")


def stop(process: subprocess.Popen) -> None:
    """Stop one gunicorn we started."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by a gunicorn master and its workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in [str(master), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def load(process: subprocess.Popen, port: int, seconds: int) -> tuple[float, float]:
    """Requests per second that wrk measures on the map read, and server CPU ms per request.

    The CPU figure does not depend on what else the machine is running, so it is the
    steadier comparison on a busy machine.
    """
    before = cpu_seconds(process.pid)
    result = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, check=True,
    )
    used = cpu_seconds(process.pid) - before
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    count = int(re.search(r"(\d+) requests in", result.stdout).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{result.stdout}")
    return float(match.group(1)), used * 1000 / max(count, 1)


def same_rows(port_app: int, port_floor: int) -> int:
    """Both servers return the same request ids in the same order; returns how many."""
    import json

    def ids(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}") as reply:
            return [row["id"] for row in json.load(reply)["data"]]

    app_ids, floor_ids = ids(port_app), ids(port_floor)
    if app_ids != floor_ids:
        raise SystemExit("the app and the floor disagree on the rows")
    return len(app_ids)


def main() -> None:
    """Seed, serve both, load both in interleaved rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="bench-served-"))
    database = folder / "civic311.db"
    try:
        seed(database, args.requests, folder)
        app_env = {
            "DATABASE_URL": f"sqlite:///{database}",
            "INSTANCE_DIR": str(folder),
            "UPLOAD_DIR": str(folder / "uploads"),
            "BACKGROUND_WORKER": "off",
            "RATELIMIT_ENABLED": "0",
            "PUBLIC_URL": "http://127.0.0.1",
        }
        app, app_port = serve("webapp:create_app()", app_env, ROOT)
        floor, floor_port = serve("stack_floor:app", {"FLOOR_DB": str(database)}, ROOT / "bench")
        try:
            rows = same_rows(app_port, floor_port)
            app_rates, floor_rates, app_cpu, floor_cpu = [], [], [], []
            for number in range(1, args.rounds + 1):
                rate, cpu = load(floor, floor_port, args.seconds)
                floor_rates.append(rate)
                floor_cpu.append(cpu)
                rate, cpu = load(app, app_port, args.seconds)
                app_rates.append(rate)
                app_cpu.append(cpu)
                print(f"round {number}: floor {floor_rates[-1]:8.1f} req/s {floor_cpu[-1]:6.2f} "
                      f"ms CPU/req   app {app_rates[-1]:8.1f} req/s {app_cpu[-1]:6.2f} ms CPU/req")
        finally:
            stop(app)
            stop(floor)
        app_median = statistics.median(app_rates)
        floor_median = statistics.median(floor_rates)
        print()
        print(f"map read GET {PATH}")
        print(f"demo city: {args.requests} requests, {rows} rows per answer, gunicorn "
              f"{WORKERS} sync workers, wrk -t2 -c8 -d{args.seconds}s, {args.rounds} rounds")
        floor_ms, app_ms = statistics.median(floor_cpu), statistics.median(app_cpu)
        print(f"{'':<28}{'req/s (median)':>16}{'server CPU ms/req':>20}")
        print(f"{'stack floor (Flask+sqlite3)':<28}{floor_median:>16.1f}{floor_ms:>20.2f}")
        print(f"{'civic311 map read':<28}{app_median:>16.1f}{app_ms:>20.2f}")
        print(f"{'ratio app / floor':<28}{app_median / floor_median:>16.2f}"
              f"{floor_ms / app_ms:>20.2f}   (target ≥ 0.5; CPU ratio = floor / app)")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
