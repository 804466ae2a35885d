"""Backup size and restore time: the demo city, then a bigger one, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_backup.py [--requests 0,100000] [--photos 150]
                                           [--pg URL | --private-cluster]
                                           [--no-sqlite] [--no-pg]

The million-request figure: ``--requests 0,1000000 --no-sqlite --private-cluster``
(a PostgreSQL cluster of the script's own, ``tools/private_postgres.py``: a million rows
loaded into the shared server would slow everybody else's work).

For each size: a fresh database (a SQLite file in a temporary folder; PostgreSQL in a
database of the script's own, ``civic311_backup_bench`` by default, created and dropped —
``flask restore`` replaces a whole database, so it never runs in a shared one), the
Chattanooga demo city (``seed_demo``: 300 requests) with ``--photos`` camera-sized photos
(a 4000×3000 JPEG each, through the real photo pipeline: a display and a thumbnail kept),
then ``--requests`` more requests bulk-loaded as in ``bench_scale.py``. It times
``make_backup`` and ``restore_backup`` (after wiping the database and the upload folder)
and prints the backup's size beside the raw size of what it copies (database file or
``pg_database_size``, plus the upload folder): the baseline a plain file copy would be.

The bulk-loaded requests are given what real ones carry, set-based in SQL (no row goes
through Python twice): a description, a "submitted" timeline entry each, and a
"closed" entry with a note for the closed ones.

On PostgreSQL the same database is also dumped with a plain ``pg_dump -Fc`` (no
snapshot export, no counts, no photos) and that dump restored with a plain
``pg_restore`` into an empty database of its own: the fair baseline for what the
product's backup adds (a consistent count of every table, the photos and their
checksums, and the recount after restoring).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/civic311_backup_bench"


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _camera_jpeg(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (4000, 3000), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(4000), rng.randrange(3000)
        draw.rectangle((x, y, x + rng.randrange(50, 900), y + rng.randrange(50, 700)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _fill(requests: int, photos: int, rng: random.Random) -> None:
    import bench_scale

    from webapp.domain.lifecycle import photos as photo_domain
    from webapp.models import ServiceRequest
    from webapp.plumbing.extensions import db
    from webapp.seed.demo import seed_demo

    seed_demo()
    for request in db.session.query(ServiceRequest).order_by(ServiceRequest.id).limit(photos):
        photo_domain.attach(request, photo_domain.process(_camera_jpeg(rng)))
        db.session.commit()
    if requests:
        service_ids = bench_scale.seed_services()
        area_ids = bench_scale.seed_neighbourhoods()
        start = db.session.query(ServiceRequest).count()
        bench_scale.grow(service_ids, area_ids, start, start + requests, rng)
        _timelines()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _timelines() -> None:
    """What a real request carries beyond its row, for every bulk-loaded one, in three
    set-based statements: a description, a "submitted" entry, and a "closed" entry with
    the crew's note for the closed ones."""
    from webapp.plumbing.extensions import db

    bulk = "public_id LIKE 'B-%'"
    db.session.execute(text(
        f"UPDATE service_requests SET description = 'Reported by a resident: ' || "  # noqa: S608 - constant
        f"public_id || ' needs attention near the corner, please send a crew.' WHERE {bulk}"))
    db.session.execute(text(
        "INSERT INTO request_events (request_id, kind, to_status, note, public, data, "  # noqa: S608 - constant
        "created_at) SELECT id, 'submitted', 'open', NULL, true, '{}', received_at "
        f"FROM service_requests WHERE {bulk}"))
    db.session.execute(text(
        "INSERT INTO request_events (request_id, kind, from_status, to_status, note, "  # noqa: S608 - constant
        "public, data, created_at) SELECT id, 'status', 'open', 'closed', "
        "'Crew fixed it this morning.', true, '{}', closed_at "
        f"FROM service_requests WHERE {bulk} AND closed_at IS NOT NULL"))
    db.session.commit()


def _pg_environment(url: str) -> dict[str, str]:
    parts = make_url(url)
    env = dict(os.environ, PGHOST=parts.host or "127.0.0.1", PGPORT=str(parts.port or 5432),
               PGUSER=parts.username or "postgres", PGDATABASE=parts.database)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env


def _baseline(url: str, admin_url: str, folder: Path) -> tuple[float, float, float]:
    """A plain ``pg_dump -Fc`` of the same database and a plain ``pg_restore`` of it into
    an empty database: (MB, dump s, restore s)."""
    target = folder / "baseline.dump"
    env = _pg_environment(url)
    started = time.perf_counter()
    subprocess.run(["pg_dump", "-Fc", f"--file={target}"], env=env, check=True)  # noqa: S607
    dump_seconds = time.perf_counter() - started
    scratch = f"{env['PGDATABASE']}_baseline"
    _database(admin_url, scratch, create=True)
    try:
        started = time.perf_counter()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error",  # noqa: S607
                        f"--dbname={scratch}", str(target)], env=env, check=True)
        restore_seconds = time.perf_counter() - started
    finally:
        _database(admin_url, scratch, create=False)
    return target.stat().st_size / 1e6, dump_seconds, restore_seconds


def _raw_bytes(app) -> int:
    from webapp.plumbing.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _wipe(app) -> None:
    from webapp.plumbing.extensions import db

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.engine.dispose()
        path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    db.engine.dispose()
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


def run(label: str, url: str, folder: Path, requests: int, photos: int,
        admin_url: str | None = None) -> tuple:
    """One size on one backend: (label, requests, raw MB, backup MB, backup s, restore s,
    baseline) — the baseline (MB, dump s, restore s) on PostgreSQL, None on SQLite."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.models import ServiceRequest
    from webapp.operations import backup
    from webapp.plumbing.config import TestingConfig
    from webapp.plumbing.extensions import db

    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    values.update(SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=str(folder / "uploads"),
                  INSTANCE_DIR=str(folder / "instance"))
    app = create_app(values)
    with app.app_context():
        upgrade()
        _fill(requests, photos, random.Random(311))
        total = db.session.query(ServiceRequest).count()
        raw = _raw_bytes(app) + _folder_bytes(folder / "uploads")
        started = time.perf_counter()
        made = backup.make_backup(folder / "backups")
        backup_seconds = time.perf_counter() - started
        size = _folder_bytes(made)
        baseline = _baseline(url, admin_url, folder) if admin_url else None
        _wipe(app)
        started = time.perf_counter()
        restored = backup.restore_backup(made)
        restore_seconds = time.perf_counter() - started
        assert not restored.mismatched, restored.mismatched
        db.session.remove()
        db.engine.dispose()
    return label, total, raw / 1e6, size / 1e6, backup_seconds, restore_seconds, baseline


def _database(admin_url: str, name: str, create: bool) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def main() -> int:
    """Every size on every backend asked for; one table at the end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", default="0,100000",
                        help="extra bulk-loaded requests beyond the demo city, comma-separated")
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--private-cluster", action="store_true",
                        help="PostgreSQL in a cluster of the script's own (initdb, free port)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = []
    cluster = None
    if args.private_cluster and not args.no_pg:
        sys.path.insert(0, str(ROOT / "tools"))
        from private_postgres import PrivateCluster

        cluster = PrivateCluster().start()
        args.pg = cluster.url("civic311_backup_bench")
    pg = make_url(args.pg)
    admin_url = pg.set(database="postgres").render_as_string(hide_password=False)
    try:
        _every_size(args, pg, admin_url, rows)
    finally:
        if cluster is not None:
            cluster.remove()
    _print(rows)
    return 0


def _every_size(args, pg, admin_url: str, rows: list) -> None:
    for extra in (int(size) for size in args.requests.split(",")):
        for label in [*([] if args.no_sqlite else ["SQLite"]), *([] if args.no_pg else ["PostgreSQL"])]:
            folder = Path(tempfile.mkdtemp(prefix="backup-bench-"))
            try:
                if label == "SQLite":
                    url = f"sqlite:///{folder / 'civic311.db'}"
                else:
                    _database(admin_url, pg.database, create=True)
                    url = pg.render_as_string(hide_password=False)
                rows.append(run(label, url, folder, extra, args.photos,
                                admin_url if label == "PostgreSQL" else None))
                print("done:", rows[-1], flush=True)
            finally:
                if label == "PostgreSQL":
                    _database(admin_url, pg.database, create=False)
                shutil.rmtree(folder, ignore_errors=True)


def _print(rows: list) -> None:
    print(f"\n{'backend':<11} {'requests':>9} {'raw MB':>8} {'backup MB':>10} "
          f"{'backup s':>9} {'restore s':>10} | {'pg_dump -Fc MB':>14} {'dump s':>7} "
          f"{'pg_restore s':>12}")
    for label, total, raw, size, made, restored, baseline in rows:
        line = (f"{label:<11} {total:>9,} {raw:>8.1f} {size:>10.1f} {made:>9.1f} "
                f"{restored:>10.1f}")
        if baseline:
            line += f" | {baseline[0]:>14.1f} {baseline[1]:>7.1f} {baseline[2]:>12.1f}"
        print(line)
    print("raw MB: the database as stored (file, or pg_database_size) plus the upload folder;"
          " restore: wipe excluded, recount of every table included. Baseline: a plain"
          " pg_dump -Fc of the same database (no photos) and a plain pg_restore of it into"
          " an empty database.")


if __name__ == "__main__":
    raise SystemExit(main())
