"""Backup size and restore time: the demo city, then a bigger one, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_backup.py [--requests 0,100000] [--photos 150]
                                           [--pg URL] [--no-sqlite] [--no-pg]

For each size: a fresh database (a SQLite file in a temporary folder; PostgreSQL in a
database of the script's own, ``civic311_backup_bench`` by default, created and dropped —
``flask restore`` replaces a whole database, so it never runs in a shared one), the
Chattanooga demo city (``seed_demo``: 300 requests) with ``--photos`` camera-sized photos
(a 4000×3000 JPEG each, through the real photo pipeline: a display and a thumbnail kept),
then ``--requests`` more requests bulk-loaded as in ``bench_scale.py``. It times
``make_backup`` and ``restore_backup`` (after wiping the database and the upload folder)
and prints the backup's size beside the raw size of what it copies (database file or
``pg_database_size``, plus the upload folder): the baseline a plain file copy would be.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import shutil
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
        db.session.execute(text("ANALYZE"))
        db.session.commit()


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


def run(label: str, url: str, folder: Path, requests: int, photos: int) -> tuple:
    """One size on one backend: (label, requests, raw MB, backup MB, backup s, restore s)."""
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
        _wipe(app)
        started = time.perf_counter()
        restored = backup.restore_backup(made)
        restore_seconds = time.perf_counter() - started
        assert not restored.mismatched, restored.mismatched
        db.session.remove()
        db.engine.dispose()
    return label, total, raw / 1e6, size / 1e6, backup_seconds, restore_seconds


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
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = []
    pg = make_url(args.pg)
    admin_url = pg.set(database="postgres").render_as_string(hide_password=False)
    for extra in (int(size) for size in args.requests.split(",")):
        for label in [*([] if args.no_sqlite else ["SQLite"]), *([] if args.no_pg else ["PostgreSQL"])]:
            folder = Path(tempfile.mkdtemp(prefix="backup-bench-"))
            try:
                if label == "SQLite":
                    url = f"sqlite:///{folder / 'civic311.db'}"
                else:
                    _database(admin_url, pg.database, create=True)
                    url = pg.render_as_string(hide_password=False)
                rows.append(run(label, url, folder, extra, args.photos))
                print("done:", rows[-1], flush=True)
            finally:
                if label == "PostgreSQL":
                    _database(admin_url, pg.database, create=False)
                shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{'backend':<11} {'requests':>9} {'raw MB':>8} {'backup MB':>10} "
          f"{'backup s':>9} {'restore s':>10}")
    for label, total, raw, size, made, restored in rows:
        print(f"{label:<11} {total:>9,} {raw:>8.1f} {size:>10.1f} {made:>9.1f} {restored:>10.1f}")
    print("raw MB: the database as stored (file, or pg_database_size) plus the upload folder;"
          " restore: wipe excluded, recount of every table included.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
