"""A phone's first load of ``/``, counted the one way the bench and the tests share.

``record_first_load`` opens ``/`` in a fresh phone-sized context with service workers
allowed, waits until the worker controls the page (its install, and so its precache, is
then complete) and the network is idle, and lists every transfer Chromium reports:
headers plus encoded body, the worker's requests included, answers the worker gave from
its own cache excluded, map tiles and photos excluded. That sum is the first load's size.

``ServerTally`` wraps the app to list what actually reached the server, with the status:
a URL downloaded twice (two answers with a body) is a waste the tests refuse.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

from tests.browser.conftest import PHONE

EXCLUDED = re.compile(r"/photos/|tile")
BUDGET_KB = 120


def file_of(url: str) -> str:
    """A URL without its ``v`` (content hash) parameter."""
    path, _, query = url.partition("?")
    rest = [part for part in query.split("&") if part and not part.startswith("v=")]
    return path + ("?" + "&".join(rest) if rest else "")


class ServerTally:
    """WSGI middleware noting each request's path, query and status."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.seen: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING")
        url = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")

        def noting_start(status, headers, *args):
            with self._lock:
                self.seen.append((url, int(status.split(" ", 1)[0])))
            return start_response(status, headers, *args)

        return self.wsgi_app(environ, noting_start)

    def downloaded_twice(self) -> dict[str, int]:
        """Files answered with a body (not a 304) more than once, a file being its URL
        without the content hash (``?v=``): ``outbox.js`` and ``outbox.js?v=…`` are one
        file downloaded twice."""
        bodies = Counter(file_of(url) for url, status in self.seen if status != 304)
        return {url: count for url, count in bodies.items() if count > 1}

    def revalidated(self) -> list[str]:
        """URLs answered 304 (the browser checked a copy it already had)."""
        return [url for url, status in self.seen if status == 304]


def record_first_load(browser, base_url: str) -> list[dict]:
    """Open ``/`` as a new phone would; every transfer of the first load."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, service_workers="allow"
    )
    transfers: list[dict] = []

    def record(request):
        response = request.response()
        if response is None or response.from_service_worker or EXCLUDED.search(request.url):
            return
        sizes = request.sizes()
        transfers.append(
            {
                "url": request.url,
                "worker": request.service_worker is not None,
                "bytes": sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0),
                "headers": sizes["responseHeadersSize"],
            }
        )

    try:
        context.on("requestfinished", record)
        page = context.new_page()
        page.goto(base_url + "/", wait_until="load")
        # Activation follows a complete install: once the worker controls the page, its
        # precache is done. (A function, which Playwright compiles once: re-evaluating a
        # bare expression on each poll is an eval the page's CSP refuses.)
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=30_000)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    return transfers


def total_kb(transfers: list[dict]) -> float:
    """The first load's size in KB (1,024 bytes)."""
    return sum(t["bytes"] for t in transfers) / 1024
