"""Backups that restore: the database, the photos, and a manifest to check both against.

``flask backup`` writes one folder:

- ``database.dump`` (PostgreSQL, ``pg_dump`` custom format) or ``database.sqlite3``
  (SQLite's online backup API): a consistent copy taken while the app keeps serving;
- ``photos/``: every stored photo file (``PHOTO_STORAGE=file``); with S3 the bucket
  is the copy (turn on versioning or replication there) and the manifest says so;
- ``manifest.json``: the schema revision, every table's row count *in the copy*, and
  the SHA-256 of the database file and of every photo.

On PostgreSQL the counts and the dump read the same snapshot (``pg_export_snapshot``
then ``pg_dump --snapshot``), so they agree exactly even while residents report. The
database is copied before the photos: photos are written before their request
commits, so every photo the copy mentions is in the folder.

``flask restore FOLDER --yes`` checks every checksum first (a damaged backup is
refused before anything is touched), empties the database, loads the copy, puts the
photos back, then counts every table again and compares with the manifest. Stop the
app servers and workers first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from webapp.plumbing.extensions import db

MANIFEST = "manifest.json"
PHOTOS = "photos"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead, in words for the operator."""


@dataclass
class Restored:
    """What a restore found: each table's count in the manifest and after loading."""

    expected: dict[str, int]
    found: dict[str, int]
    photos: int
    mismatched: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def table_counts(connection: Connection) -> dict[str, int]:
    """Every table's row count, as this connection's transaction sees them."""
    names = sorted(inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()  # noqa: S608 - names from the inspector, quoted
        for name in names
    }


def _revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None


def _libpq_environment() -> dict[str, str]:
    """The database's address for pg_dump/pg_restore as PG* variables (no password on
    the command line, where other users of the machine could read it)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[name] = str(value)
    return env


def _pg_tool(name: str, server_major: int, pg_bin: str | None) -> str:
    """The path of ``pg_dump``/``pg_restore``, refused when older than the server."""
    program = shutil.which(name, path=pg_bin) if pg_bin else shutil.which(name)
    if program is None:
        raise BackupError(f"{name} was not found (install the PostgreSQL client tools).")
    words = subprocess.run(  # noqa: S603 - our own command line
        [program, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", words)
    major = int(match.group(1)) if match else 0
    if major < server_major:
        raise BackupError(
            f"{name} is version {major} but the server is {server_major}: install the "
            f"client tools of version {server_major} or newer (or pass --pg-bin)."
        )
    return program


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _dump_postgres(folder: Path, pg_bin: str | None) -> tuple[str, dict[str, int], str | None]:
    target = folder / "database.dump"
    with db.engine.connect() as connection:
        program = _pg_tool("pg_dump", _server_major(connection), pg_bin)
    snapshot_reader = db.engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    with snapshot_reader as connection, connection.begin():
        # The dump reads the very snapshot the counts were taken in.
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = table_counts(connection)
        revision = _revision(connection)
        done = subprocess.run(  # noqa: S603 - our own command line
            [program, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target}"],
            env=_libpq_environment(), capture_output=True, text=True, check=False,
        )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return target.name, counts, revision


def _sqlite_path() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _dump_sqlite(folder: Path) -> tuple[str, dict[str, int], str | None]:
    target = folder / "database.sqlite3"
    copy = sqlite3.connect(target)
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.backup(copy)
    finally:
        raw.close()
        copy.close()
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            counts, revision = table_counts(connection), _revision(connection)
    finally:
        engine.dispose()
    return target.name, counts, revision


def _copy_photos(folder: Path) -> dict:
    config = current_app.config
    if config.get("PHOTO_STORAGE", "file") == "s3":
        return {
            "storage": "s3",
            "bucket": config.get("S3_BUCKET"),
            "prefix": config.get("S3_PREFIX") or "",
            "note": "Photos stay in the bucket: back it up with versioning or replication.",
            "files": {},
        }
    root = Path(config["UPLOAD_DIR"])
    files: dict[str, str] = {}
    for source in sorted(root.rglob("*")) if root.is_dir() else []:
        if not source.is_file() or source.name.startswith(".tmp-"):
            continue
        key = source.relative_to(root).as_posix()
        target = folder / PHOTOS / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        files[key] = sha256_of(target)
    return {"storage": "file", "files": files}


def make_backup(destination: Path, pg_bin: str | None = None, now: datetime | None = None) -> Path:
    """Write a backup folder under ``destination`` and return its path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(destination) / f"civic311-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    if _is_postgres():
        name, counts, revision = _dump_postgres(folder, pg_bin)
    else:
        name, counts, revision = _dump_sqlite(folder)
    photos = _copy_photos(folder)
    database_file = folder / name
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "engine": db.engine.dialect.name,
        "schema_revision": revision,
        "database": {
            "file": name,
            "bytes": database_file.stat().st_size,
            "sha256": sha256_of(database_file),
        },
        "tables": counts,
        "photos": {
            **photos,
            "count": len(photos["files"]),
            "bytes": sum((folder / PHOTOS / key).stat().st_size for key in photos["files"]),
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return folder


def read_manifest(folder: Path) -> dict:
    """The backup's manifest, after checking every file against its checksum."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a Civic311 backup.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    database_file = Path(folder) / manifest["database"]["file"]
    if not database_file.is_file() or sha256_of(database_file) != manifest["database"]["sha256"]:
        raise BackupError(f"{database_file.name} is missing or damaged (checksum differs).")
    for key, expected in manifest["photos"]["files"].items():
        copy = Path(folder) / PHOTOS / key
        if not copy.is_file() or sha256_of(copy) != expected:
            raise BackupError(f"Photo {key} is missing or damaged in the backup.")
    return manifest


def _restore_postgres(folder: Path, manifest: dict, pg_bin: str | None) -> None:
    with db.engine.connect() as connection:
        program = _pg_tool("pg_restore", _server_major(connection), pg_bin)
    db.session.remove()
    db.engine.dispose()
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()
    done = subprocess.run(  # noqa: S603 - our own command line
        [program, "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={_libpq_environment()['PGDATABASE']}",
         str(folder / manifest["database"]["file"])],
        env=_libpq_environment(), capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def _restore_sqlite(folder: Path, manifest: dict) -> None:
    target = _sqlite_path()
    db.session.remove()
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(folder / manifest["database"]["file"])
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        source.close()
        destination.close()


def _restore_photos(folder: Path, manifest: dict) -> int:
    if manifest["photos"].get("storage") != "file":
        return 0
    root = Path(current_app.config["UPLOAD_DIR"])
    for key in manifest["photos"]["files"]:
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / PHOTOS / key, target)
    return len(manifest["photos"]["files"])


def restore_backup(folder: Path, pg_bin: str | None = None) -> Restored:
    """Replace the database and put the photos back from ``folder``; then count again."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    engine = db.engine.dialect.name
    if manifest["engine"] != engine:
        raise BackupError(f"This backup is of {manifest['engine']}, the app uses {engine}.")
    if engine == "postgresql":
        _restore_postgres(folder, manifest, pg_bin)
    else:
        _restore_sqlite(folder, manifest)
    photos = _restore_photos(folder, manifest)
    with db.engine.connect() as connection:
        found = table_counts(connection)
    expected = manifest["tables"]
    mismatched = sorted(
        name for name in set(expected) | set(found) if expected.get(name) != found.get(name)
    )
    return Restored(expected=expected, found=found, photos=photos, mismatched=mismatched)


def describe(manifest: dict) -> str:
    """One line for the operator: size and contents of a backup."""
    megabytes = (manifest["database"]["bytes"] + manifest["photos"]["bytes"]) / 1e6
    rows = sum(manifest["tables"].values())
    return (
        f"{manifest['engine']} at {manifest['schema_revision']}: {rows} rows in "
        f"{len(manifest['tables'])} tables, {manifest['photos']['count']} photo files, "
        f"{megabytes:.1f} MB"
    )
