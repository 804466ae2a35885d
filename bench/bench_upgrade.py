"""How long ``flask db upgrade`` takes on a big PostgreSQL database (the newest migration).

A rolling upgrade runs ``flask db upgrade`` while the previous release keeps serving,
so a migration must neither rewrite a big table nor hold a lock for long (see
docs/upgrades.md). This script creates its own database (``civic311_upgrade_bench`` by default),
migrates it to the revision before the newest one, fills ``service_requests`` and
``notification_outbox`` with ``--rows`` rows each (1,000,000 by default, by
``generate_series``: every NOT NULL column gets a plain value of its type), then times
``flask db upgrade`` to the head in a separate process. The baseline is the same
upgrade on the same schema with no rows: a migration that only expands costs the same
at any size. The database is dropped at the end.

    .venv/bin/python bench/bench_upgrade.py [--rows 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/civic311_upgrade_bench"
FILLED = ("service_requests", "notification_outbox")
VALUE_BY_TYPE = {
    "integer": "1",
    "bigint": "1",
    "boolean": "false",
    "double precision": "0",
    "real": "0",
    "character varying": "'x'",
    "text": "''",
    "timestamp without time zone": "now() - (i || ' seconds')::interval",
    "date": "current_date",
    "json": "'{}'::json",
    "jsonb": "'{}'::jsonb",
}


def _revisions() -> tuple[str, str]:
    """(the revision before the newest, the newest) from migrations/versions."""
    sys.path.insert(0, str(ROOT))
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    head = script.get_revision(script.get_current_head())
    return str(head.down_revision), head.revision


def _upgrade(url: str, folder: str, revision: str = "head") -> float:
    """Seconds ``flask db upgrade`` spends migrating (the app is built beforehand, so
    the figure is the migration's, not Python's start-up)."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.plumbing.config import TestingConfig

    values = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    values.update(SQLALCHEMY_DATABASE_URI=url, INSTANCE_DIR=folder,
                  UPLOAD_DIR=str(Path(folder) / "uploads"))
    app = create_app(values)
    with app.app_context():
        started = time.perf_counter()
        upgrade(revision=revision)
        seconds = time.perf_counter() - started
        from webapp.plumbing.extensions import db

        db.engine.dispose()
    return seconds


def _recreate(admin_url: str, name: str, drop_only: bool = False) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _fill(url: str, rows: int) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        _insert_rows(connection, "services", 1, {"service_code": "'pothole'"})
        service_id = connection.execute(text("SELECT min(id) FROM services")).scalar_one()
        _insert_rows(connection, "service_requests", rows, {"service_id": str(service_id)})
        _insert_rows(connection, "notification_outbox", rows, {"state": "'sent'"})
        for table in FILLED:
            connection.execute(text(f"ANALYZE {table}"))
    engine.dispose()


def _required_columns(connection, table: str) -> dict[str, str]:
    return dict(connection.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = :t AND table_schema = 'public' AND is_nullable = 'NO' "
        "AND column_default IS NULL"
    ), {"t": table}).all())


def _insert_rows(connection, table: str, rows: int, given: dict[str, str]) -> None:
    values = {name: VALUE_BY_TYPE[kind] for name, kind in _required_columns(connection, table).items()}
    values.update(given)
    names = ", ".join(f'"{name}"' for name in values)
    connection.execute(text(
        f"INSERT INTO {table} ({names}) "  # noqa: S608 - names from the catalog
        f"SELECT {', '.join(values.values())} FROM generate_series(1, {int(rows)}) AS i"
    ))


def _measure(url: str, rows: int, before: str) -> tuple[float, float]:
    """(seconds to fill, seconds for ``flask db upgrade`` to the head)."""
    with tempfile.TemporaryDirectory() as folder:
        _upgrade(url, folder, before)
        started = time.perf_counter()
        if rows:
            _fill(url, rows)
        filled = time.perf_counter() - started
        return filled, _upgrade(url, folder)


def main() -> int:
    """Run the baseline (no rows) and the big database; print both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    url = make_url(args.database_url)
    name = url.database
    admin_url = url.set(database="postgres").render_as_string(hide_password=False)
    plain_url = url.render_as_string(hide_password=False)
    before, head = _revisions()
    print(f"flask db upgrade {before} -> {head} on PostgreSQL database {name}")
    try:
        _recreate(admin_url, name)
        _, empty = _measure(plain_url, 0, before)
        _recreate(admin_url, name)
        filled, big = _measure(plain_url, args.rows, before)
    finally:
        _recreate(admin_url, name, drop_only=True)
    print(f"{'rows per table':>16} {'fill s':>8} {'upgrade s':>10}")
    print(f"{0:>16,} {'-':>8} {empty:>10.2f}   (baseline: the same upgrade, empty tables)")
    print(f"{args.rows:>16,} {filled:>8.1f} {big:>10.2f}   ({', '.join(FILLED)})")
    print(f"big / empty: {big / empty:.2f} (an expand-only migration stays far under a second)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
