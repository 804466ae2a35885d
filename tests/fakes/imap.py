"""A real IMAP server for the tests: Debian's dovecot, run from a config in a temp folder.

``DovecotServer(tmp).start()`` listens on 127.0.0.1 and a free port with one mailbox
user; ``deliver(raw_bytes)`` puts a message in the INBOX with IMAP APPEND (imaplib, not
the app's client); ``stop()`` / ``start()`` simulate an outage and a restart.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

USER = "city311"
PASSWORD = "imap-test-password"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dovecot_available() -> bool:
    """True when the dovecot binary is installed (Debian package dovecot-imapd)."""
    return shutil.which("dovecot") is not None or Path("/usr/sbin/dovecot").exists()


@contextmanager
def dovecot_root() -> Iterator[Path]:
    """A temp folder dovecot's own users can enter (pytest's tmp folders are private)."""
    root = Path(tempfile.mkdtemp(prefix="civic311-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - dovecot drops to its own users
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


class DovecotServer:
    """A throwaway dovecot: its own config, state, logs and maildirs under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.conf = self.root / "dovecot.conf"
        self.binary = shutil.which("dovecot") or "/usr/sbin/dovecot"

    def _write_config(self) -> None:
        for folder in ("base", "state", "mail"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root / "mail", "dovecot", "dovecot")
        os.chmod(self.root, 0o755)  # noqa: S103
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        self.conf.write_text(f"""
base_dir = {self.root}/base
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = 100
mail_location = maildir:{self.root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={self.root}/mail/%u
}}
""")

    def start(self) -> DovecotServer:
        """Start dovecot and wait until it answers."""
        if not self.conf.exists():
            self._write_config()
        # dovecot forks into the background: it must not inherit our pipes.
        subprocess.run(
            [self.binary, "-c", str(self.conf)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            if (self.root / "base" / "master.pid").exists():  # written just after listening
                return self
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        """Stop dovecot (the master process this server started) and wait for the port."""
        pid_file = self.root / "base" / "master.pid"
        if pid_file.exists():
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                break
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def log(self) -> str:
        """The server's log, for failure messages."""
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def _client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes) -> None:
        """Append a message to the INBOX, unread."""
        client = self._client()
        try:
            status, _data = client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", status
        finally:
            client.logout()

    def unread_count(self) -> int:
        """How many messages in the INBOX are still unread."""
        client = self._client()
        try:
            client.select("INBOX")
            _status, data = client.search(None, "UNSEEN")
            return len(data[0].split())
        finally:
            client.logout()

    def settings(self) -> dict:
        """App settings that read this mailbox."""
        return {
            "IMAP_HOST": "127.0.0.1",
            "IMAP_PORT": self.port,
            "IMAP_USER": USER,
            "IMAP_PASSWORD": PASSWORD,
            "IMAP_FOLDER": "INBOX",
            "IMAP_SSL": False,
        }
