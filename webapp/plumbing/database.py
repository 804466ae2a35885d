"""Database set-up: Flask-SQLAlchemy and Flask-Migrate, plus SQLite's pragmas.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys
enforced, and a busy timeout so concurrent writers wait instead of failing.

PostgreSQL: a pooled connection the server has closed (a restart, a killed backend, an
idle timeout) is replaced before a request gets it, without a round trip; reads that
write nothing can run outside a transaction (``reading_connection``).
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

from webapp.plumbing.extensions import db, migrate
from webapp.plumbing.json_provider import read_json

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


def _has_input(file_descriptor: int) -> bool:
    """True when a socket has something to read (or has been hung up), without waiting."""
    poller = select.poll()
    poller.register(file_descriptor, select.POLLIN)
    return bool(poller.poll(0))


@event.listens_for(Pool, "checkout")
def _replace_a_closed_connection(dbapi_connection, connection_record, connection_proxy):
    """Hand out no PostgreSQL connection the server has already closed.

    The pool would otherwise give a request a connection that died while it sat idle,
    and that request would fail. ``pool_pre_ping`` asks the server ``SELECT 1`` at
    every checkout: a round trip on every request. This asks the socket instead. An
    idle connection hears nothing from the server unless the server is closing it (a
    restart's "terminating connection", a killed backend, an idle timeout, a crash
    closing the socket), so something to read, a hang-up, or a connection psycopg
    already knows is broken means it is gone: the pool drops it and opens another.
    A network that silently drops packets is the one case neither check can see
    quickly; a statement then fails and the pool is invalidated as usual.
    """
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    if dbapi_connection.closed or dbapi_connection.broken or _has_input(dbapi_connection.fileno()):
        raise exc.DisconnectionError("the database closed this pooled connection")


@contextmanager
def reading_connection() -> Iterator[Connection]:
    """A connection for reads that write nothing, given back when the reads are done.

    On PostgreSQL, while the request's session has not begun a transaction, the reads
    run on a connection of their own from the pool, outside a transaction (autocommit).
    A few SELECTs under READ COMMITTED each see their own snapshot either way, so a
    transaction bought nothing but a BEGIN and a ROLLBACK round trip: two of the map
    read's six. The session is left as it was, so whatever the request does next (a
    write, a streamed export) runs in a transaction as usual. A request that already
    began one (it loaded the signed-in user, say) reads in it. SQLite begins no
    transaction for a read, so there it is the session's own connection.
    """
    session = db.session()
    bind = session.get_bind()
    if session.in_transaction() or bind.dialect.name != "postgresql":
        yield session.connection()
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


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
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # JSON columns (attribute answers on every map row) read by orjson.
    options.setdefault("json_deserializer", read_json)
    if uri.startswith("sqlite"):
        options.pop("pool_pre_ping", None)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
