"""What a write costs the app: a photo report, its replay, a staff close (CPU per operation).

    .venv/bin/python bench/bench_submit.py [--count 200] [--pg URL] [--no-sqlite] [--no-pg]
                                           [--profile submit|replay|close] [--top 25]

Builds the app on a fresh database (SQLite in a temporary folder; PostgreSQL in a schema
of its own, ``bench_submit``, dropped at the end) through the real migrations, seeds the
test city, signs a staff member in, then through the Flask test client (the whole app:
inputs, sessions, access, the domain, the listeners, the JSON answer; no HTTP server):

- sends ``--count`` photo reports the way the outbox does (multipart, a small distinct
  JPEG each, an ``Idempotency-Key``, the device cookie of a new phone),
- replays every one of them with the same key (answered with the original),
- closes every one of them through the staff API (``…/transition`` to closed),

and prints the app's CPU per operation (``time.process_time``: this process only, so the
database server's own work is not in it, as in the issue's "app CPU"), the wall time, and
how much of the CPU the rollup and map-grid listeners took (timed around them). The
targets from issue 27: a photo report ≤ 20 ms, a replay ≤ 4 ms, a close ≤ 15 ms.

``--profile KIND`` runs that operation under cProfile instead and prints the ``--top``
functions by cumulative time, to see where a write spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.plumbing.config import Config, TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SCHEMA = "bench_submit"
WRITE = {"X-Requested-With": "civic311"}
PROFILE_FILTER = (
    "webapp|sqlalchemy/orm/(session|unitofwork|persistence)|PIL|psycopg/cursor|formparser|flask/app"
)
TARGETS_MS = {"photo report": 20, "replay": 4, "staff close": 15}


def settings(url: str, folder: Path, engine_options: dict | None = None) -> dict:
    """Test settings pointed at ``url`` (no background thread, no rate limits)."""
    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    values.update(
        # Production keeps the city's settings for a while; the tests re-read them always.
        CITY_SETTINGS_TTL=Config.CITY_SETTINGS_TTL,
        SQLALCHEMY_DATABASE_URI=url,
        UPLOAD_DIR=str(folder / "uploads"),
        INSTANCE_DIR=str(folder / "instance"),
    )
    if engine_options:
        values["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return values


def unique_jpeg(index: int) -> bytes:
    """A small real photo, different for every report (photos are stored by content)."""
    from PIL import Image, ImageDraw

    rng = random.Random(index)
    image = Image.new("RGB", (160, 120), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(150), rng.randrange(110)
        draw.rectangle(
            (x, y, x + rng.randrange(10, 60), y + rng.randrange(10, 40)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def report_fields(n: int) -> dict:
    """The form fields of report ``n``: graffiti at a place of its own in the test city."""
    place = random.Random(n)
    return {
        "service_code": "graffiti",
        "lat": f"{35.03 + place.random() * 0.03:.6f}",
        "long": f"{-85.32 + place.random() * 0.04:.6f}",
        "description": f"Tags on the underpass (report {n}).",
        "captured_at": "2026-05-01T09:30:00Z",
    }


class Listeners:
    """CPU spent inside the rollup and map-grid flush listeners, summed."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, module) -> None:
        """Time ``module._after_flush`` (the listener registered on every session)."""
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        original = module._after_flush
        if not event.contains(Session, "after_flush", original):
            return  # already timed (a run before this one)

        def timed(session, context):
            started = time.process_time()
            try:
                return original(session, context)
            finally:
                self.seconds += time.process_time() - started

        event.remove(Session, "after_flush", original)
        event.listen(Session, "after_flush", timed)


LISTENERS = Listeners()


class InsideApp:
    """CPU spent inside the app's WSGI callable: the server's share of a request.

    The test client's own work (building the multipart body, reading the answer) runs
    in the same process; this leaves it out, as a real server's client would be
    another process.
    """

    def __init__(self, app) -> None:
        self.seconds = 0.0
        inner = app.wsgi_app

        def timed(environ, start_response):
            started = time.process_time()
            try:
                return inner(environ, start_response)
            finally:
                self.seconds += time.process_time() - started

        app.wsgi_app = timed


def run(label: str, app, count: int, profile: str | None, top: int) -> list[tuple]:
    """Report, replay and close ``count`` requests; the CPU and wall time of each kind."""
    from flask_migrate import upgrade

    from tests import factories
    from webapp.domain.figures import map_grid, rollups

    with app.app_context():
        upgrade()
        factories.gen_city()
        staff = factories.gen_user(role="staff")
        db.session.commit()
        staff_email = staff.email
        db.session.remove()
    listeners = LISTENERS
    for module in (rollups, map_grid):
        listeners.wrap(module)
    inside = InsideApp(app)
    client = app.test_client()
    signed_in = client.post(
        "/auth/sign-in", data={"email": staff_email, "password": factories.PASSWORD}
    )
    assert signed_in.status_code == 302, signed_in.status_code
    photos = [unique_jpeg(n) for n in range(count)]
    rng = random.Random(27)
    keys = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)]
    public_ids: list[str] = []

    def report(n: int, phone):
        fields = {
            **report_fields(n),
            "photos": [(io.BytesIO(photos[n]), "photo-1.jpg", "image/jpeg")],
        }
        return phone.post(
            "/api/v1/requests",
            data=fields,
            content_type="multipart/form-data",
            headers={**WRITE, "Idempotency-Key": keys[n]},
        )

    phones = [app.test_client() for _ in range(count)]

    def submit(n: int) -> None:
        answer = report(n, phones[n])
        assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
        public_ids.append(answer.get_json()["data"]["id"])

    def replay(n: int) -> None:
        answer = report(n, phones[n])
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]

    def close(n: int) -> None:
        answer = client.post(
            f"/api/v1/staff/requests/{public_ids[n % len(public_ids)]}/transition",
            headers={**WRITE, "Content-Type": "application/json"},
            data=json.dumps(
                {"status": "closed", "resolution": "fixed", "note": "Painted over this morning."}
            ),
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]

    # One of each first (imports, caches, compiled statements), not counted.
    warm = count - 1
    submit(warm), replay(warm), close(warm)
    public_ids.clear()
    rows = []
    for name, action in (("photo report", submit), ("replay", replay), ("staff close", close)):
        listeners.seconds = 0.0
        profiler = (
            cProfile.Profile(time.process_time)
            if profile and name.startswith(profile[:5])
            else None
        )
        cpu, wall = [], []
        inside.seconds = 0.0
        for n in range(count - 1):
            if profiler:
                profiler.enable()
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            action(n)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
            if profiler:
                profiler.disable()
        if profiler:
            print(f"--- {label}: {name}, {count - 1} calls, by cumulative time ---")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(PROFILE_FILTER, top)
        rows.append(
            (
                label,
                name,
                inside.seconds / (count - 1) * 1000,
                statistics.mean(cpu) * 1000,
                statistics.median(wall) * 1000,
                listeners.seconds / (count - 1) * 1000,
            )
        )
        print(
            f"[{label}] {name:<13} app CPU {rows[-1][2]:6.2f} ms  with the client "
            f"{rows[-1][3]:6.2f} ms  wall median {rows[-1][4]:6.2f} ms  "
            f"listeners {rows[-1][5]:5.2f} ms",
            flush=True,
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    """Run on each database and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--profile", choices=("submit", "replay", "close"))
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    profile = {"submit": "photo", "replay": "repla", "close": "staff"}.get(args.profile)
    table = []
    folder = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    if not args.no_sqlite:
        app = create_app(settings(f"sqlite:///{folder / 'submit.db'}", folder / "sqlite"))
        table += run("SQLite", app, args.count, profile, args.top)
    if not args.no_pg:
        admin = create_engine(args.pg)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        try:
            app = create_app(
                settings(
                    args.pg, folder / "pg", {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}
                )
            )
            table += run("PostgreSQL", app, args.count, profile, args.top)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
    print()
    print(
        f"{'database':<11}{'operation':<14}{'app CPU ms':>11}{'+ client':>9}{'wall ms':>9}"
        f"{'listeners ms':>14}{'target app CPU ms':>19}"
    )
    for label, name, app_cpu, cpu, wall, listened in table:
        print(
            f"{label:<11}{name:<14}{app_cpu:>11.2f}{cpu:>9.2f}{wall:>9.2f}{listened:>14.2f}"
            f"{TARGETS_MS[name]:>19}"
        )


if __name__ == "__main__":
    main()
