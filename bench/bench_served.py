"""The map read served for real: gunicorn + wrk, app vs a stack floor doing the same work.

    .venv/bin/python bench/bench_served.py [--requests 300] [--seconds 5] [--rounds 2]
        [--gunicorn bench|shipped] [--pg URL]

Seeds the demo city (``seed_demo``) into a fresh SQLite database through the real
migrations (or, with ``--pg``, into a PostgreSQL schema of its own), then serves, one
after the other in each round:

- the app (``webapp:create_app()``) answering the map read
  ``/api/v1/requests?bbox=<whole demo city>&page_size=100`` — the full path, no
  conditional request, so nothing is answered from an ETag;
- the stack floor (``bench/stack_floor.py``): bare Flask + sqlite3 (or psycopg) doing the
  same work by hand — the same freshness maxima, page query (rows, fields, joins, order), photos query
  and capped count, one connection per worker — and answering the same body, encoded by
  Flask's own ``jsonify``;
- the same floor encoding with orjson, as the app does: the app against it is what the
  app's layers cost (routing, input checks, sessions, access, language, logging,
  metrics, headers), its encoder aside.

The script checks that all three bodies are equal before it times anything.

Both sides run under the same gunicorn settings, given explicitly with ``-c`` and started
outside the project folder (gunicorn would otherwise read ``./gunicorn.conf.py`` on its
own): ``--gunicorn bench`` (the default) is 2 sync workers that are never recycled;
``--gunicorn shipped`` is the project's ``gunicorn.conf.py`` (threaded workers, recycled
after ``max_requests``). Server CPU counts the master, its live workers and the workers
it already reaped, so a recycled worker's time is not lost.

Each is loaded by Debian's ``wrk`` (2 threads, 8 connections) for ``--seconds``; the
rounds interleave the three so machine noise hits each. Prints requests per second per
round, the medians, the ratio app / floor (target ≥ 0.8) and the ratio app / floor on
orjson (the app's layers alone; no target, shown so the first ratio is read for what it
is). Everything started is stopped at the end; the database lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
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
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BBOX = "-85.42,34.98,-85.04,35.19"
PATH = f"/api/v1/requests?bbox={BBOX}&page_size=100"
PG_SCHEMA = "bench_served"
WORKERS = 2
BENCH_GUNICORN = f"""# gunicorn for the served benchmark: the same for the app and the floor.
workers = {WORKERS}
worker_class = "sync"
max_requests = 0
timeout = 60
loglevel = "warning"
"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database_url: str, count: int, instance: Path, engine_options: dict | None = None) -> list:
    """Migrate a fresh database and seed the demo city into it.

    Returns the status labels of the states in it (``[[detailed_status, resolution,
    reopened, label], …]``), worked out by the app once for the floor's table.
    """
    from flask_migrate import upgrade
    from sqlalchemy import select

    from webapp import create_app
    from webapp.models import ServiceRequest
    from webapp.plumbing.extensions import db
    from webapp.seed.demo import seed_demo
    from webapp.wording import status_label_for

    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(instance),
        "UPLOAD_DIR": str(instance / "uploads"),
        "BACKGROUND_WORKER": "off",
        "PUBLIC_URL": "http://127.0.0.1",
    }
    if engine_options:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    app = create_app(settings)
    with app.app_context():
        upgrade()
        seed_demo(count)
        states = db.session.execute(
            select(
                ServiceRequest.detailed_status, ServiceRequest.resolution, ServiceRequest.reopened
            ).distinct()
        ).all()
        with app.test_request_context("/"):
            labels = [[*state, status_label_for(*state)] for state in states]
        db.session.remove()
        db.engine.dispose()
    return labels


def serve(
    app_spec: str, env: dict, chdir: Path, config: Path, folder: Path
) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with the settings file ``config``; wait until it answers.

    Started in ``folder``, not the project folder, so no ``gunicorn.conf.py`` is read
    but the one given.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(config),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--chdir", str(chdir), app_spec,
        ],
        env={**os.environ, **env},
        cwd=folder,
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
    """CPU time (user + system) used so far by a gunicorn master and its workers.

    The live workers' own time, plus the time of the workers the master already reaped
    (``cutime``/``cstime``), so a worker recycled mid-run does not make the figure drop.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in [str(master), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
        if pid == str(master):
            total += int(fields[13]) + int(fields[14])
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


def same_body(port_app: int, port_floor: int) -> int:
    """Both servers answer the same body (rows, fields, order, meta); returns the rows."""
    import json

    def body(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}") as reply:
            return json.load(reply)

    ours, floor = body(port_app), body(port_floor)
    if ours["meta"] != floor["meta"]:
        raise SystemExit(f"meta differs: app {ours['meta']} floor {floor['meta']}")
    if len(ours["data"]) != len(floor["data"]):
        raise SystemExit("the app and the floor disagree on the number of rows")
    for mine, theirs in zip(ours["data"], floor["data"], strict=True):
        if mine != theirs:
            keys = sorted(set(mine) | set(theirs))
            diff = {k: (mine.get(k), theirs.get(k)) for k in keys if mine.get(k) != theirs.get(k)}
            raise SystemExit(f"the app and the floor disagree on {mine.get('id')}: {diff}")
    return len(ours["data"])


def main() -> None:
    """Seed, serve both, load both in interleaved rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--gunicorn", choices=["bench", "shipped"], default="bench",
        help="bench: 2 sync workers, never recycled; shipped: the project's gunicorn.conf.py",
    )
    parser.add_argument(
        "--pg", help="serve both from this PostgreSQL database (in a schema of their own, "
        f"{PG_SCHEMA}, dropped at the end) instead of a SQLite file",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="bench-served-"))
    if args.pg:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.pg)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        options = f"-csearch_path={PG_SCHEMA}"
        app_database = f"{args.pg}?options={quote(options)}"
        floor_database = app_database.replace("postgresql+psycopg://", "postgresql://")
        engine_options = {"connect_args": {"options": options}}
        seed_url = args.pg
    else:
        app_database = seed_url = f"sqlite:///{folder / 'civic311.db'}"
        floor_database, engine_options = str(folder / "civic311.db"), None
    try:
        labels = seed(seed_url, args.requests, folder, engine_options)
        if args.gunicorn == "shipped":
            config = ROOT / "gunicorn.conf.py"
        else:
            config = folder / "bench_gunicorn.conf.py"
            config.write_text(BENCH_GUNICORN)
        app_env = {
            "DATABASE_URL": app_database,
            "INSTANCE_DIR": str(folder),
            "UPLOAD_DIR": str(folder / "uploads"),
            "BACKGROUND_WORKER": "off",
            "RATELIMIT_ENABLED": "0",
            "PUBLIC_URL": "http://127.0.0.1",
        }
        app, app_port = serve("webapp:create_app()", app_env, ROOT, config, folder)
        floor_env = {"FLOOR_DB": floor_database, "FLOOR_LABELS": json.dumps(labels)}
        floor, floor_port = serve("stack_floor:app", floor_env, ROOT / "bench", config, folder)
        fast, fast_port = serve(
            "stack_floor:app", {**floor_env, "FLOOR_JSON": "orjson"}, ROOT / "bench", config,
            folder,
        )
        servers = {"floor": (floor, floor_port), "floor+orjson": (fast, fast_port),
                   "app": (app, app_port)}
        try:
            rows = same_body(app_port, floor_port)
            same_body(app_port, fast_port)
            rates = {name: [] for name in servers}
            cpus = {name: [] for name in servers}
            for number in range(1, args.rounds + 1):
                for name, (process, port) in servers.items():
                    rate, cpu = load(process, port, args.seconds)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
                print(f"round {number}: " + "   ".join(
                    f"{name} {rates[name][-1]:7.1f} req/s {cpus[name][-1]:5.2f} ms CPU/req"
                    for name in servers))
        finally:
            for process, _port in servers.values():
                stop(process)
        print()
        print(f"map read GET {PATH}")
        setup = (f"{WORKERS} sync workers, no recycling" if args.gunicorn == "bench"
                 else "the shipped gunicorn.conf.py")
        print(f"demo city on {'PostgreSQL' if args.pg else 'SQLite'}: {args.requests} "
              f"requests, {rows} rows per answer, gunicorn "
              f"{setup}, wrk -t2 -c8 -d{args.seconds}s, {args.rounds} rounds")
        rate = {name: statistics.median(found) for name, found in rates.items()}
        ms = {name: statistics.median(found) for name, found in cpus.items()}
        print(f"{'':<38}{'req/s (median)':>16}{'server CPU ms/req':>20}")
        for name, label in (("floor", "stack floor, Flask's own JSON"),
                            ("floor+orjson", "stack floor, orjson"),
                            ("app", "civic311 map read (orjson)")):
            print(f"{label:<38}{rate[name]:>16.1f}{ms[name]:>20.2f}")
        for name, label, note in (
            ("floor", "ratio app / floor", "target ≥ 0.8; CPU ratio = floor / app"),
            ("floor+orjson", "ratio app / floor on orjson", "the app's layers alone"),
        ):
            print(f"{label:<38}{rate['app'] / rate[name]:>16.2f}"
                  f"{ms[name] / ms['app']:>20.2f}   ({note})")
        print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
              f"(1, 5, 15 min) on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.pg:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
