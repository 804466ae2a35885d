"""What "ready to serve" means for one app server, checked part by part.

A load balancer sends traffic only to servers whose ``/readyz`` answers 200. Each
check is cheap (one round trip at most) and names itself when it fails, so the
operator reads "database" or "photo_storage" instead of a bare 503:

- ``database``: a ``SELECT 1`` on a pooled connection;
- ``migrations``: the database's Alembic revision is the code's head (a server of a new
  release waits until ``flask db upgrade`` ran; an old one keeps serving during it);
- ``redis``: a PING, only when ``REDIS_URL`` is set (shared rate limits live there);
- ``photo_storage``: the upload folder is a writable directory, or the S3 bucket answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import text

from webapp.plumbing.extensions import db

REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Check:
    """One part's verdict: ``ok`` and, when not, a short reason for the operator."""

    name: str
    ok: bool
    detail: str = "ok"


def _failed(name: str, error: BaseException) -> Check:
    words = str(error).strip().splitlines()
    reason = words[0][:200] if words else ""
    return Check(name, False, f"{type(error).__name__}: {reason}")


def head_revisions(app: Flask) -> frozenset[str]:
    """The migration heads the code ships (read from migrations/ once per app)."""
    cached = app.extensions.get("civic311_migration_heads")
    if cached is None:
        from alembic.config import Config as AlembicConfig
        from alembic.script import ScriptDirectory

        from webapp.plumbing.database import MIGRATIONS_DIR

        config = AlembicConfig()
        config.set_main_option("script_location", MIGRATIONS_DIR)
        cached = frozenset(ScriptDirectory.from_config(config).get_heads())
        app.extensions["civic311_migration_heads"] = cached
    return cached


def check_database() -> tuple[Check, Check]:
    """The database answers, and its schema is at the code's migration head."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                found = frozenset(
                    connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            except Exception:  # no alembic_version table: never migrated
                found = frozenset()
    except Exception as error:
        return _failed("database", error), Check("migrations", False, "database unreachable")
    expected = head_revisions(current_app)
    if found != expected:
        at = ", ".join(sorted(found)) or "none"
        return Check("database", True), Check(
            "migrations", False, f"database at {at}, code expects {', '.join(sorted(expected))}"
        )
    return Check("database", True), Check("migrations", True)


def _redis_client(url: str):
    clients = current_app.extensions.setdefault("civic311_readiness_redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
    return clients[url]


def check_redis() -> Check | None:
    """PING the shared rate-limit store; None when ``REDIS_URL`` is not set."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    try:
        _redis_client(url).ping()
    except Exception as error:
        return _failed("redis", error)
    return Check("redis", True)


def check_photo_storage() -> Check:
    """Photos can be stored: a writable upload directory, or a bucket that answers."""
    config = current_app.config
    try:
        if config.get("PHOTO_STORAGE", "file") == "s3":
            from webapp.domain.lifecycle.storage import _s3_client

            client = _s3_client(config.get("S3_ENDPOINT_URL"), config.get("S3_REGION"))
            client.head_bucket(Bucket=config["S3_BUCKET"])
            return Check("photo_storage", True)
        root = Path(config["UPLOAD_DIR"])
        root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            return Check("photo_storage", False, f"{root} is not a writable directory")
    except Exception as error:
        return _failed("photo_storage", error)
    return Check("photo_storage", True)


def run_checks(extra: list[Callable[[], Check | None]] | None = None) -> list[Check]:
    """Every check in a fixed order (unconfigured parts left out)."""
    found = [*check_database(), check_redis(), check_photo_storage()]
    found += [check() for check in extra or []]
    return [check for check in found if check is not None]
