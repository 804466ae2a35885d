"""Database set-up: Flask-SQLAlchemy and Flask-Migrate, plus SQLite's pragmas.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys
enforced, and a busy timeout so concurrent writers wait instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from webapp.plumbing.extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parents[2] / "migrations")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def refresh_statistics(tables: tuple[str, ...]) -> None:
    """After a bulk load: fresh planner statistics for ``tables``, and on PostgreSQL a
    vacuum so the visibility map is set and covering indexes answer without the table.

    Autovacuum would get there on its own, minutes later; a city that has just imported
    years of history should get its fast plans (a busy circle from the index alone) at
    once. VACUUM cannot run in a transaction, so it runs on a connection of its own in
    autocommit mode; the caller has committed what it loaded.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        postgres = connection.dialect.name == "postgresql"
        for table in tables:
            connection.execute(text(f"VACUUM ANALYZE {table}" if postgres else f"ANALYZE {table}"))


def init_app(app: Flask) -> None:
    """Bind the database and migrations; make sure the instance folder exists."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite://":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
