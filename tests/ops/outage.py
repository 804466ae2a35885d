"""A database the test can stop and start, on either backend, for outage tests.

PostgreSQL: the app connects through a ``TcpRelay`` to the suite's own database;
stopping the relay is the server going away (live connections cut, new ones
refused). SQLite: the database file's folder is swapped for a plain file, so the
file cannot be opened; swapping back is the disk coming back.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from tests.fakes.tcp_proxy import TcpRelay
from webapp.plumbing.extensions import db


class BreakableDatabase:
    """Build an app on a database that ``stop()`` takes away and ``start()`` returns."""

    def __init__(self, make_app, database_backend, tmp_path: Path):
        self.kind, self.location = database_backend
        self.relay: TcpRelay | None = None
        self.folder = tmp_path / "dbfolder"
        self.make_app = make_app
        self.app = None

    def build(self, **settings):
        """The app, on the breakable database (migrated, emptied)."""
        if self.kind == "postgres":
            parts = urlsplit(self.location)
            self.relay = TcpRelay((parts.hostname or "127.0.0.1", parts.port or 5432)).start()
            netloc = parts.netloc.rsplit("@", 1)
            host = f"127.0.0.1:{self.relay.port}"
            url = parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host)
            self.app = self.make_app(SQLALCHEMY_DATABASE_URI=url.geturl(), **settings)
        else:
            self.folder.mkdir()
            path = self.folder / "civic311.db"
            shutil.copyfile(self.location, path)
            self.app = self.make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **settings)
        return self.app

    def stop(self) -> None:
        """The database goes away."""
        if self.relay is not None:
            self.relay.stop()
            return
        self.folder.rename(self.folder.with_suffix(".away"))
        self.folder.write_text("not a folder")
        with self.app.app_context():
            db.engine.dispose()

    def start(self) -> None:
        """The database is back."""
        if self.relay is not None:
            self.relay.start()
            return
        self.folder.unlink()
        self.folder.with_suffix(".away").rename(self.folder)

    def close(self) -> None:
        """Leave nothing running."""
        if self.relay is not None:
            self.relay.stop()
