"""A chat line written on one app server reaches a stream open on another.

Two real HTTP servers (werkzeug, threaded, each its own app on the same database),
Redis at 127.0.0.1:6379 with a channel prefix of this test's own. The resident's
stream is open on server B; the call-taker answers on server A. The polling fallback
is set far beyond the stream's life, so the line can only arrive through Redis: it must
come before the stream's first keep-alive, i.e. at the announcement, not at a re-read.

Runs in both passes: SQLite works here too, since both servers share one database file.
"""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail
from tests.factories import PASSWORD, gen_city, gen_user
from webapp.plumbing.extensions import db

REDIS_URL = "redis://127.0.0.1:6379/0"
JSON = {"Accept": "application/json"}


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def _serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _lines(response):
    """One reader of the stream's lines, as they arrive (kept for the whole stream)."""
    return response.iter_lines(chunk_size=None, decode_unicode=True)


def _read_until_line(lines, wanted: str) -> list[str]:
    """The stream's lines (SSE fields and comments) up to the event whose body is wanted."""
    seen = []
    for raw in lines:
        seen.append(raw)
        if raw.startswith("data: ") and json.loads(raw[6:])["body"] == wanted:
            return seen
    raise AssertionError(f"the stream ended without {wanted!r}: {seen}")


@pytest.fixture
def two_servers(request, make_app):
    if not _redis_up():
        skip_or_fail(request.config, f"Redis is not answering at {REDIS_URL}")
    settings = {
        "REDIS_URL": REDIS_URL,
        "CHAT_CHANNEL_PREFIX": f"test-{uuid.uuid4().hex}:",
        "CHAT_STREAM_SECONDS": 20.0,
        "CHAT_POLL_SECONDS": 600.0,
    }
    first = make_app(**settings)
    second = make_app(**settings, SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    with first.app_context():
        gen_city()
        staff = gen_user("staff")
        db.session.commit()
        email = staff.email
        db.session.remove()
    with _serving(first) as url_a, _serving(second) as url_b:
        yield url_a, url_b, email


def test_an_answer_on_one_server_reaches_the_residents_stream_on_another(two_servers):
    url_a, url_b, staff_email = two_servers
    resident = requests.Session()
    started = resident.post(f"{url_a}/chat", data={"body": "Streetlight out on Elm"}, headers=JSON)
    assert started.status_code == 201, started.text
    key = started.json()["key"]

    call_taker = requests.Session()
    signed_in = call_taker.post(
        f"{url_a}/auth/sign-in",
        data={"email": staff_email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302
    chats = call_taker.get(f"{url_a}/staff/chats", headers=JSON).json()
    chat_id = chats[0]["id"]
    assert call_taker.post(f"{url_a}/staff/chats/{chat_id}/take", headers=JSON).ok

    # The resident's browser is on server B (same cookies: same host, same secret).
    backlog = resident.get(f"{url_b}/chat/{key}/events", stream=True, timeout=30)
    assert backlog.status_code == 200
    assert backlog.headers["Content-Type"].startswith("text/event-stream")
    backlog_lines = _lines(backlog)
    before = _read_until_line(backlog_lines, "A call-taker has joined the chat.")
    assert before[0] == "retry: 1000"  # sent once the stream is subscribed
    answer = "Thanks, a crew will look at it tonight. שלום 🌙"
    posted = call_taker.post(
        f"{url_a}/staff/chats/{chat_id}/messages", data={"body": answer}, headers=JSON
    )
    assert posted.status_code == 201
    arrived = _read_until_line(backlog_lines, answer)
    backlog.close()
    assert not [line for line in arrived if line.startswith(":")], arrived  # no re-read first
    event_id = next(line for line in arrived if line.startswith("id: "))
    assert int(event_id[4:]) == posted.json()["id"]

    # And the other way: the resident writes on B, the call-taker's stream on A has it.
    desk_stream = call_taker.get(
        f"{url_a}/staff/chats/{chat_id}/events",
        headers={"Last-Event-ID": str(posted.json()["id"])},
        stream=True,
        timeout=30,
    )
    desk_lines = _lines(desk_stream)
    assert next(desk_lines) == "retry: 1000"
    written = resident.post(f"{url_b}/chat/{key}/messages", data={"body": "Thank you!"}, headers=JSON)
    assert written.status_code == 201
    back = _read_until_line(desk_lines, "Thank you!")
    desk_stream.close()
    assert not [line for line in back if line.startswith(":")], back
