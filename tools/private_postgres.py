"""A PostgreSQL server of one's own, for fault runs and big benchmarks: ``initdb`` into a
temporary folder, started on a free port of 127.0.0.1, stopped and started again at will,
removed at the end.

Why: the chaos run restarts the database mid-run and the backup bench fills a million
requests. Doing either on a shared server would stop or slow everybody else's work, so
these scripts start a cluster that nobody else uses. The server binaries are the
machine's (``/usr/lib/postgresql/<newest>/bin``, or ``PG_BIN``). PostgreSQL refuses to
run as root, so when this runs as root the cluster belongs to the ``postgres`` system
user and every server command runs through ``su postgres``.

    cluster = PrivateCluster().start()
    url = cluster.url("civic311")      # created on first use
    cluster.stop()                     # pg_ctl stop -m fast: connections are cut
    cluster.start()                    # the same data, the same port
    cluster.remove()
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def server_bin() -> Path:
    """Where initdb and pg_ctl are: ``PG_BIN``, else the newest installed major version."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
    )
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql (set PG_BIN)")
    return versions[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    """One throwaway PostgreSQL cluster on 127.0.0.1 (trust authentication, user postgres)."""

    def __init__(self, port: int | None = None, settings: dict[str, str] | None = None):
        self.bin = server_bin()
        self.port = port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="civic311-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.settings = {"listen_addresses": "127.0.0.1", "fsync": "off", **(settings or {})}
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["su", "postgres", "-c", shlex.join(command)]
        return subprocess.run(  # noqa: S603 - the server's own binaries, our arguments
            command, check=check, capture_output=True, text=True, cwd=self.folder
        )

    def start(self) -> PrivateCluster:
        """Start the server (again) and wait until it takes connections."""
        options = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        options += f" -p {self.port} -k {self.folder}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "start")
        return self

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open connections are cut, as in a crash
        of the database machine's service; the data stays)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def running(self) -> bool:
        """Whether the server answers ``pg_ctl status``."""
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "civic311", driver: str = "postgresql+psycopg") -> str:
        """The SQLAlchemy URL of ``database`` on this cluster (created when missing)."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  database, check=False)  # refused when it exists already: fine
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        if self.running():
            self.stop()
        for _ in range(20):
            if not self.running():
                break
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
