"""One chat as Server-Sent Events, for the resident's page and the call-taker's desk.

Why SSE: the shipped gunicorn runs threaded workers (gthread), where a WebSocket would
need another worker class and a long-lived socket per chat; an EventSource is plain
HTTP that every proxy passes, and the browser reconnects by itself with
``Last-Event-ID``. So a stream is kept short (``CHAT_STREAM_SECONDS``, 25 s): it sends
the lines after the last one the browser has, waits for announcements (Redis) or polls
the database, and ends; the browser comes back from its last line. A thread is never
held for ever and a dropped connection loses nothing.

At most ``CHAT_MAX_STREAMS`` streams stay open at once in one worker process, so streams
never take every thread from ordinary pages: a stream beyond that sends what is new and
ends at once, and the browser comes back a little later (it polls instead of waiting).

The stream holds no database connection while it waits: each read has a session of
its own, closed at once.
"""

from __future__ import annotations

import json
import threading
import time

from flask import Response, current_app, request, stream_with_context
from sqlalchemy.orm import Session

from webapp.domain.intake import chat as chat_domain
from webapp.models import Chat
from webapp.plumbing import chat_bus
from webapp.plumbing.extensions import db

RETRY_MS = 1000
BUSY_RETRY_MS = 3000
HEARTBEAT_SECONDS = 10.0
_SEATS_KEY = "civic311_chat_stream_seats"
_SEATS_LOCK = threading.Lock()


def _seats() -> threading.BoundedSemaphore:
    """This process's open-stream seats (one set per app)."""
    with _SEATS_LOCK:
        seats = current_app.extensions.get(_SEATS_KEY)
        if seats is None:
            size = max(1, int(current_app.config.get("CHAT_MAX_STREAMS", 16)))
            seats = current_app.extensions[_SEATS_KEY] = threading.BoundedSemaphore(size)
        return seats


def resume_point() -> int:
    """The last line the browser has: ``Last-Event-ID`` on a reconnect, ``?after=`` first."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        return max(0, min(int(raw), 2**62))
    except ValueError:
        return 0


def _read(chat_id: int, after: int) -> tuple[list[dict], bool]:
    """The new lines and whether the chat is over, read in a session of the stream's own."""
    with Session(db.engine) as session:
        return chat_domain.read_after(session, chat_id, after)


def _event(line: dict) -> str:
    return f"id: {line['id']}\nevent: line\ndata: {json.dumps(line, ensure_ascii=False)}\n\n"


def stream(chat: Chat) -> Response:
    """The SSE response for ``chat``, from the browser's resume point, for a short while."""
    chat_id, after = chat.id, resume_point()
    seconds = float(current_app.config.get("CHAT_STREAM_SECONDS", 25))
    seats = _seats()
    db.session.commit()  # nothing was written: this only gives the connection back

    def generate():
        seated = seats.acquire(blocking=False)
        listener = chat_bus.Listener(chat_id) if seated else None
        last = after
        try:
            yield f"retry: {RETRY_MS if seated else BUSY_RETRY_MS}\n\n"
            deadline = time.monotonic() + (seconds if seated else 0)
            while True:
                lines, over = _read(chat_id, last)
                for line in lines:
                    last = line["id"]
                    yield _event(line)
                left = deadline - time.monotonic()
                if over or left <= 0:
                    break
                if not listener.wait(min(left, HEARTBEAT_SECONDS)):
                    yield ": still here\n\n"
        finally:
            if seated:
                listener.close()
                seats.release()

    response = Response(stream_with_context(generate()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
