"""Local stand-ins for the outside world, each a small WSGI app on 127.0.0.1.

``serve(app)`` runs any WSGI app in a thread on a free port and returns a handle
with ``.url`` and ``.stop()``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class RunningServer:
    """A WSGI app served in a background thread."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self.server.server_port

    @property
    def url(self) -> str:
        """Its base URL (http://127.0.0.1:PORT)."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(wsgi_app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``wsgi_app`` on ``host`` in a daemon thread."""
    server = make_server(host, port, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return RunningServer(server, thread)
