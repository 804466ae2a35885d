"""A burst of photo reports, their replays and the staff's closes, served for real.

    .venv/bin/python bench/bench_burst.py [--pg URL] [--count 2000] [--threads 8]

A storm passes and a few thousand phones send their kept reports at once. This sets up
the demo city (``flask db upgrade`` and ``flask seed-demo --requests 0``) in a
PostgreSQL schema of its own (``bench_burst``, dropped at the end), serves it with
gunicorn and the project's ``gunicorn.conf.py`` (started outside the project folder,
``--chdir`` to it; the background worker off, the per-address report limit raised so
one test machine may stand for thousands of phones), then over HTTP with ``--threads``
clients at once:

1. sends ``--count`` photo reports the way the outbox does (multipart, a distinct small
   JPEG each, an ``Idempotency-Key``, no cookie: every report a new phone);
2. replays every one of them with the same key and body (answered 200 with the
   original);
3. signs a staff member in through the form and closes every report through the
   staff API.

For each phase it prints the throughput, the median and 99th percentile latency, the
answers' status codes and the **server's CPU per request** (the gunicorn master and its
workers, ``/proc``; the database server's own work is not in it), with the load average
before and after. Run it from two checkouts on the same database server to put a
change beside the code before it: the script serves the code of the checkout it lives in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_reads_http import load_average, serve  # noqa: E402
from bench_served import cpu_seconds  # noqa: E402
from bench_submit import report_fields, unique_jpeg  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SCHEMA = "bench_burst"
STAFF_EMAIL = "staff@civic311.example"
DEMO_PASSWORD = "civic311-demo"
WRITE = {"X-Requested-With": "civic311"}
WARM_UP = 48  # reports (and their replays and closes) sent first and not counted


def flask(env: dict, *args: str) -> None:
    """One ``flask --app webapp`` command of this checkout, run to the end."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def staff_cookie(base: str) -> str:
    """Sign the demo staff member in through the form (CSRF token and all)."""
    session = requests.Session()
    page = session.get(f"{base}/auth/sign-in", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit(f"no CSRF token on the sign-in page ({page.status_code})")
    signed_in = session.post(
        f"{base}/auth/sign-in", allow_redirects=False, timeout=30,
        data={"csrf_token": token[1], "email": STAFF_EMAIL, "password": DEMO_PASSWORD},
    )  # fmt: skip
    if signed_in.status_code != 302:
        raise SystemExit(f"staff sign-in answered {signed_in.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def phase(name: str, calls: list, threads: int, master: int) -> dict:
    """Run every call (``() -> requests.Response``) on ``threads`` threads; the figures."""
    before, cpu_before = load_average(), cpu_seconds(master)
    latencies: list[float] = []
    statuses: Counter = Counter()
    bodies: list = []

    def timed(call):
        started = time.perf_counter()
        answer = call()
        latencies.append(time.perf_counter() - started)
        statuses[answer.status_code] += 1
        return answer

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        bodies = list(pool.map(timed, calls))
    wall = time.perf_counter() - started
    cpu = cpu_seconds(master) - cpu_before
    latencies.sort()
    refused = next((a for a in bodies if a.status_code >= 400), None)
    if refused is not None:
        print(f"{name}: first refusal {refused.status_code} {refused.text[:300]}", flush=True)
    figures = {
        "phase": name,
        "count": len(calls),
        "per_second": len(calls) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "cpu_ms": cpu / len(calls) * 1000,
        "statuses": dict(sorted(statuses.items())),
        "load": f"{before} → {load_average()}",
        "answers": bodies,
    }
    print(
        f"{name:<14} {figures['per_second']:6.1f} req/s  p50 {figures['p50']:7.1f} ms  "
        f"p99 {figures['p99']:7.1f} ms  server CPU {figures['cpu_ms']:5.1f} ms/request  "
        f"{figures['statuses']}  load {figures['load']}",
        flush=True,
    )
    return figures


def main() -> None:
    """Set the city up, serve it, run the three phases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    admin = create_engine(args.pg)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    folder = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    database_url = f"{args.pg}?options={quote(f'-csearch_path={SCHEMA}')}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(folder / "setup"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1",
    }
    # One machine stands for thousands of phones: the per-address limits are raised.
    limits = {"RATELIMIT_SUBMIT": "1000000 per hour", "RATELIMIT_SUBMIT_STAFF": "1000000 per hour"}
    process = None
    try:
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--requests", "0")
        warm = WARM_UP
        photos = [unique_jpeg(n) for n in range(args.count + warm)]
        rng = random.Random(27)
        keys = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(args.count + warm)]
        process, base = serve(database_url, folder, limits)
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=args.threads))

        def report(n: int):
            # The demo city's graffiti asks whose property it is.
            fields = {**report_fields(n), "attribute[property]": "public"}
            return lambda: session.post(
                f"{base}/api/v1/requests", data=fields,
                files={"photos": ("photo-1.jpg", photos[n], "image/jpeg")},
                headers={**WRITE, "Idempotency-Key": keys[n]}, timeout=120,
            )  # fmt: skip

        cookie = staff_cookie(base)
        # Every worker thread warmed up first (imports, compiled statements), not counted.
        done = phase("(warm-up)", [report(args.count + n) for n in range(warm)], args.threads,
                     process.pid)["answers"]  # fmt: skip
        phase("(warm-up)", [report(args.count + n) for n in range(warm)], args.threads,
              process.pid)  # fmt: skip
        warm_ids = [a.json()["data"]["id"] for a in done if a.status_code == 201]
        rows = [phase("photo report", [report(n) for n in range(args.count)], args.threads,
                      process.pid)]  # fmt: skip
        ids = [a.json()["data"]["id"] for a in rows[0].pop("answers") if a.status_code == 201]
        rows.append(
            phase("replay", [report(n) for n in range(args.count)], args.threads, process.pid)
        )
        rows[-1].pop("answers")
        close = json.dumps(
            {"status": "closed", "resolution": "fixed", "note": "Painted over this morning."}
        )

        def closing(public_id: str):
            return lambda: session.post(
                f"{base}/api/v1/staff/requests/{public_id}/transition", data=close,
                headers={**WRITE, "Cookie": cookie, "Content-Type": "application/json"},
                timeout=120,
            )  # fmt: skip

        phase("(warm-up)", [closing(i) for i in warm_ids], args.threads, process.pid)
        rows.append(phase("staff close", [closing(i) for i in ids], args.threads, process.pid))
        rows[-1].pop("answers")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
    print()
    print(f"{ROOT.name}: {args.count} reports, {args.threads} clients, PostgreSQL, "
          "gunicorn gunicorn.conf.py")  # fmt: skip
    print("| phase | req/s | p50 ms | p99 ms | server CPU ms/request | answers | load before → after |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        answers = ", ".join(f"{n} × {status}" for status, n in row["statuses"].items())
        print(
            f"| {row['phase']} | {row['per_second']:.1f} | {row['p50']:.1f} | {row['p99']:.1f} "
            f"| {row['cpu_ms']:.1f} | {answers} | {row['load']} |"
        )


if __name__ == "__main__":
    main()
