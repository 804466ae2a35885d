"""Downloads computed on the spot hold a permit, so a few of them cannot stall the site.

A whole-city CSV streamed from the database keeps a worker thread busy for as long as it
runs, minutes on a big city. Each app process hands out ``EXPORT_CONCURRENCY`` permits,
shared by every such download (the public narrowed pulls and the staff export with
contact details); a download that finds none is asked to come back in a few seconds,
and the threads stay free for everyone else.

A permit is given back exactly once: when the last row is sent, or when the server
closes a response cut short or never read (HEAD), whichever comes first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from flask import Response, current_app, stream_with_context

# A download refused because others are being computed may be tried again soon.
BUSY_RETRY_AFTER = "10"


def permits() -> threading.BoundedSemaphore:
    """This process's permits for downloads computed on the spot."""
    found = current_app.extensions.get("civic311_export_slots")
    if found is None:
        found = current_app.extensions.setdefault(
            "civic311_export_slots",
            threading.BoundedSemaphore(current_app.config["EXPORT_CONCURRENCY"]),
        )
    return found


def _once(action):
    """``action`` wrapped so that only its first call does anything."""
    lock = threading.Lock()
    done = False

    def run_once():
        nonlocal done
        with lock:
            if done:
                return
            done = True
        action()

    return run_once


def _then(body: Iterable, finish):
    """Yield ``body``, then call ``finish`` (also when the stream stops early)."""
    try:
        yield from body
    finally:
        finish()


def stream_with_permit(make_body: Callable[[], Iterable], mimetype: str) -> Response | None:
    """A streamed response for the body ``make_body`` starts, holding one of this
    process's permits; None when none is free (never waits).

    The permit is taken before the body is started and given back if starting it fails,
    so no caller can take one and lose it.
    """
    slots = permits()
    if not slots.acquire(blocking=False):
        return None
    release = _once(slots.release)
    try:
        body = make_body()
    except BaseException:
        release()
        raise
    response = Response(stream_with_context(_then(body, release)), mimetype=mimetype)
    response.call_on_close(release)
    return response
