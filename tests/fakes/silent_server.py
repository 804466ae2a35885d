"""A server that accepts connections, reads what it is sent, and never answers.

It stands for the worst network fault a phone meets: a connection that opens, takes
the upload, and then hangs (a stalled proxy, a server stuck behind a dead database).
"""

from __future__ import annotations

import socket
import threading


class SilentServer:
    """A real TCP listener on 127.0.0.1; ``connections`` counts what it swallowed."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._open: list[socket.socket] = []
        self._stopping = threading.Event()
        self.connections = 0
        self.bytes_received = 0
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Its base URL (http://127.0.0.1:PORT)."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._swallow, args=(conn,), daemon=True).start()

    def _swallow(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            self.bytes_received += len(chunk)

    def stop(self) -> None:
        """Close every connection it holds and stop listening."""
        self._stopping.set()
        for conn in self._open:
            conn.close()
        self._listener.close()
        self._thread.join(timeout=5)
