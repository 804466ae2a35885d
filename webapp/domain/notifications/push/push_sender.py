"""Sending Web Push messages: encrypted with pywebpush, signed with VAPID, over pooled sessions.

Each worker signs the VAPID ``Authorization`` header once per push-service origin and
reuses it until shortly before it expires, and sends over a pooled ``requests.Session``
per thread that never follows a redirect. A batch is sent on a few threads at once,
never more than ``concurrency`` ahead of what was recorded. No database work here.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from py_vapid import Vapid
from pywebpush import WebPusher

from webapp.domain.notifications.push.vapid import load_vapid

SEND_TIMEOUT_SECONDS = 10

SEND_CONCURRENCY = 8  # sends in flight at once per worker

VAPID_LIFETIME_SECONDS = 12 * 3600

VAPID_REFRESH_MARGIN_SECONDS = 3600


@dataclass(frozen=True)
class Message:
    """A claimed outbox row with its subscription, read in one query."""

    id: int
    attempts: int
    payload: dict
    topic: str | None
    urgency: str
    ttl_seconds: int
    subscription_id: int | None
    endpoint: str | None
    p256dh: str | None
    auth: str | None
    claim_token: str | None = None
    http_request_id: str | None = None  # the web request that queued it, for the logs


@dataclass
class _SignedHeader:
    value: str
    expires: float


@dataclass
class Pusher:
    """One app's VAPID signer, a cache of signed headers per origin, pooled HTTP sessions."""

    signer: Vapid
    public_key: str
    subject: str
    _headers: dict[str, _SignedHeader] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def authorization(self, endpoint: str) -> str:
        """The ``vapid t=…, k=…`` header for the endpoint's origin, signed at most once per
        origin until shortly before it expires. Claims are a fresh dict on every signing."""
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._headers.get(origin)
            if cached and cached.expires - VAPID_REFRESH_MARGIN_SECONDS > now:
                return cached.value
            expires = int(now) + VAPID_LIFETIME_SECONDS
            claims = {"sub": self.subject, "aud": origin, "exp": expires}
            value = self.signer.sign(claims)["Authorization"]
            self._headers[origin] = _SignedHeader(value, expires)
            return value

    def forget(self, endpoint: str) -> None:
        """Drop a cached header (the push service refused it)."""
        parts = urlsplit(endpoint)
        with self._lock:
            self._headers.pop(f"{parts.scheme}://{parts.netloc}", None)

    @property
    def session(self) -> requests.Session:
        """A pooled keep-alive HTTP session for the calling thread (not shared).

        Proxy settings are read from the environment once here; ``trust_env`` is then
        off so requests does not re-read the environment and ``~/.netrc`` per message.
        """
        session = getattr(self._local, "session", None)
        if session is None:
            session = _NoRedirectSession()
            session.trust_env = False
            session.proxies.update(
                {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")}
            )
            adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._local.session = session
        return session

    def send(self, message: Message) -> requests.Response:
        """Encrypt and POST one message; returns the push service's response."""
        info = {
            "endpoint": message.endpoint,
            "keys": {"p256dh": message.p256dh, "auth": message.auth},
        }
        headers = {
            "Authorization": self.authorization(message.endpoint),
            "Urgency": message.urgency or "normal",
        }
        if message.topic:
            headers["Topic"] = message.topic
        data = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":"))
        return WebPusher(info, requests_session=self.session).send(
            data,
            headers,
            ttl=max(1, int(message.ttl_seconds)),
            content_encoding="aes128gcm",
            timeout=SEND_TIMEOUT_SECONDS,
        )


class _NoRedirectSession(requests.Session):
    """A session that never follows a redirect: a push service answers, it does not send
    the worker elsewhere (a redirect could point into the city's own network)."""

    def request(self, *args, **kwargs):
        """Send as usual, with redirects off whatever the caller asked."""
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


_PUSHER_LOCK = threading.Lock()


def pusher(app: Flask | None = None) -> Pusher:
    """The app's Pusher, built once (loading or generating the VAPID key)."""
    app = app or current_app._get_current_object()
    with _PUSHER_LOCK:
        existing = app.extensions.get("civic311_pusher")
        if existing is None:
            signer, public_key = load_vapid(app)
            existing = Pusher(signer, public_key, app.config["VAPID_SUBJECT"])
            app.extensions["civic311_pusher"] = existing
    return existing


def public_key(app: Flask | None = None) -> str:
    """The VAPID public key browsers subscribe with (``applicationServerKey``)."""
    return pusher(app).public_key


@dataclass
class Attempt:
    """What one send produced: the push service's response, or the network error."""

    response: requests.Response | None = None
    error: requests.RequestException | None = None


def send(message: Message, sender: Pusher) -> Attempt:
    """POST one message (no database work, so it can run on a sending thread)."""
    try:
        return Attempt(response=sender.send(message))
    except requests.RequestException as error:
        return Attempt(error=error)


def send_all(
    messages: list[Message], sender: Pusher, concurrency: int
) -> Iterator[tuple[int, Attempt]]:
    """Send ``messages``, at most ``concurrency`` at once, yielding each one's index with
    its answer as it arrives. A new send starts only when an answer was handed back (and
    so recorded by the caller): the messages sent but not yet recorded — the ones a
    crash leaves in doubt — are never more than ``concurrency``."""
    if concurrency <= 1:
        yield from ((index, send(message, sender)) for index, message in enumerate(messages))
        return
    pool = _sending_pool(concurrency)
    waiting = iter(enumerate(messages))
    in_flight: dict[Future, int] = {}

    def start_next() -> None:
        index, message = next(waiting, (None, None))
        if message is not None:
            in_flight[pool.submit(send, message, sender)] = index

    for _slot in range(concurrency):
        start_next()
    while in_flight:
        done, _pending = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            yield in_flight.pop(future), future.result()
            start_next()


_POOLS: dict[int, ThreadPoolExecutor] = {}

_POOLS_LOCK = threading.Lock()


def _sending_pool(size: int) -> ThreadPoolExecutor:
    """One shared pool of sending threads per size (each thread keeps its own session)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="civic311-push")
            _POOLS[size] = pool
        return pool
