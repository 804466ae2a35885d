"""Web Push delivery: claim due outbox rows, send them with pywebpush, record the outcome.

Rows are written by ``notify.on_event`` in the same transaction as the change, so a
change that rolls back never reaches this module. A worker claims due rows
(``claims.claim_due``: ``sending``, its claim token, a one-minute lease its heartbeat
keeps renewing), commits, then sends each one and commits its outcome as soon as the
answer arrives, so several workers never send the same row and a crash loses nothing
that was already answered. A worker that dies mid-batch leaves ``sending`` rows whose
lease runs out within about a minute; another worker picks them up and sends them
with the same ``Topic`` (kept on the row; one is given at claim time when missing), so
a message that went out just before the crash replaces itself at the push service.

Outcomes: 2xx → ``sent``; 404/410 → the subscription is deleted and the row is
``dead``; 429, 5xx and network errors → retried with exponential backoff (honouring
``Retry-After``) until ``MAX_ATTEMPTS``, then ``failed`` with the reason kept; other
4xx → ``failed`` at once.

For speed each worker signs the VAPID ``Authorization`` header once per push-service
origin and reuses it until shortly before it expires, and sends over a pooled
``requests.Session``.
"""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid
from pywebpush import WebPusher
from sqlalchemy import delete, select, update

from webapp.domain.notifications import claims, push_endpoints
from webapp.models import NotificationOutbox, PushSubscription, utcnow
from webapp.plumbing.extensions import db
from webapp.plumbing.request_log import log_delivery

PENDING, SENDING, SENT, DEAD, FAILED = "pending", "sending", "sent", "dead", "failed"
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
RETRY_AFTER_MAX_SECONDS = 24 * 3600
CLAIM_BATCH = 50
LEASE = claims.LEASE
SEND_TIMEOUT_SECONDS = 10
SEND_CONCURRENCY = 8  # sends in flight at once per worker
VAPID_LIFETIME_SECONDS = 12 * 3600
VAPID_REFRESH_MARGIN_SECONDS = 3600
KEY_FILE = "vapid_private.pem"
SUCCESS = {200, 201, 202}
GONE = {404, 410}


def b64url(data: bytes) -> str:
    """Unpadded base64url, the encoding Web Push uses for keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url (raises ValueError on rubbish)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- VAPID keys -------------------------------------------------------------------


def _instance_dir(app: Flask) -> Path:
    return Path(app.config.get("INSTANCE_DIR") or app.instance_path)


def _load_private_key(text: str) -> Vapid:
    """A Vapid signer from a PEM, base64url DER or base64url raw private key."""
    text = text.strip()
    if "-----BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def _generate_key_file(path: Path) -> None:
    """Write a new private key to ``path`` unless another process already did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Vapid()
    signer.generate_keys()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(handle, "wb") as out:
        out.write(signer.private_pem())


def load_vapid(app: Flask) -> tuple[Vapid, str]:
    """The VAPID signer and its public key (base64url uncompressed point).

    From ``VAPID_PRIVATE_KEY`` when configured, else from the instance folder's
    ``vapid_private.pem``, generated there the first time it is needed.
    """
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        signer = _load_private_key(configured)
    else:
        path = _instance_dir(app) / KEY_FILE
        if not path.exists():
            _generate_key_file(path)
        signer = _load_private_key(path.read_text())
    derived = b64url(
        signer.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    configured_public = app.config.get("VAPID_PUBLIC_KEY")
    if configured_public and configured_public.rstrip("=") != derived:
        raise RuntimeError("VAPID_PUBLIC_KEY does not match VAPID_PRIVATE_KEY")
    return signer, derived


# --- the sender -------------------------------------------------------------------


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


# --- claiming and delivering -------------------------------------------------------


def claim_due(
    limit: int = CLAIM_BATCH,
    now: datetime | None = None,
    channel: str = "push",
    token: str | None = None,
) -> list[int]:
    """Claim up to ``limit`` due rows of ``channel`` and commit (``claims.claim_due``)."""
    return claims.claim_due(limit, now, channel, token)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff_base_seconds(attempts: int) -> float:
    """The backoff before jitter: 30 s, 1 min, 2 min … capped at 6 h."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with ±20 % jitter, so many failed sends do not all return at
    the same moment. ``rng`` is the random source (the module's own when omitted); tests
    give a seeded one."""
    return backoff_base_seconds(attempts) * (rng or random).uniform(0.8, 1.2)


def claimed_messages(ids: list[int]) -> list[Message]:
    """The claimed rows with their subscriptions (missing ones as None), oldest first."""
    rows = db.session.execute(
        select(
            NotificationOutbox.id,
            NotificationOutbox.attempts,
            NotificationOutbox.payload,
            NotificationOutbox.topic,
            NotificationOutbox.urgency,
            NotificationOutbox.ttl_seconds,
            PushSubscription.id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
            NotificationOutbox.claim_token,
            NotificationOutbox.http_request_id,
        )
        .outerjoin(PushSubscription, PushSubscription.id == NotificationOutbox.subscription_id)
        .where(NotificationOutbox.id.in_(ids), NotificationOutbox.state == SENDING)
        .order_by(NotificationOutbox.id)
    ).all()
    return [Message(*row) for row in rows]


def _record(message: Message, **values) -> None:
    """Write the outcome on the row, only while it is still this worker's claim."""
    db.session.execute(
        update(NotificationOutbox)
        .where(claims.still_mine(message.id, message.claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _subscription_failed(message: Message) -> None:
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == message.subscription_id)
        .values(failure_count=PushSubscription.failure_count + 1)
        .execution_options(synchronize_session=False)
    )


def _retry(
    message: Message,
    error: str,
    now: datetime,
    retry_after: float | None,
    rng: random.Random | None = None,
) -> str:
    """Back off and try again later, or give up after MAX_ATTEMPTS and say why."""
    if message.attempts >= MAX_ATTEMPTS:
        _record(
            message, state=FAILED, last_error=f"gave up after {message.attempts} attempts: {error}"
        )
        return FAILED
    delay = backoff_seconds(message.attempts, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_SECONDS))
    _record(
        message, state=PENDING, last_error=error, next_attempt_at=now + timedelta(seconds=delay)
    )
    return PENDING


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


def _endpoint_refused(message: Message) -> bool:
    """True when the subscription's endpoint is no longer on the allowed push services."""
    services = current_app.config["PUSH_SERVICES"]
    return not push_endpoints.endpoint_allowed(message.endpoint or "", services)


def _refuse_endpoint(message: Message) -> str:
    """Never connect to an endpoint outside the push services: drop the subscription."""
    _record(message, state=DEAD, last_error="endpoint is not on an allowed push service")
    db.session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == message.subscription_id)
        .execution_options(synchronize_session=False)
    )
    return DEAD


def deliver_one(
    message: Message,
    sender: Pusher,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> str:
    """Send one claimed message and record the outcome (the caller commits); returns the state."""
    if message.subscription_id is None:
        _record(message, state=DEAD, last_error="subscription no longer exists")
        return DEAD
    if _endpoint_refused(message):
        return _refuse_endpoint(message)
    return record_outcome(message, send(message, sender), sender, now, rng)


def record_outcome(
    message: Message,
    attempt: Attempt,
    sender: Pusher,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> str:
    """Write what the push service said on the row (the caller commits); returns the state.

    ``now`` is the clock reading the outcome is dated by (the current time when omitted)
    and ``rng`` the random source of the retry's jitter.
    """
    now = now or utcnow()
    if attempt.error is not None:
        _subscription_failed(message)
        return _retry(message, f"network error: {type(attempt.error).__name__}", now, None, rng)
    response = attempt.response
    status = response.status_code
    if status in SUCCESS:
        _record(message, state=SENT, last_error=None, sent_at=now)
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.id == message.subscription_id)
            .values(last_success_at=now, failure_count=0)
            .execution_options(synchronize_session=False)
        )
        return SENT
    if status in GONE:
        _record(
            message, state=DEAD, last_error=f"push service answered {status}: subscription gone"
        )
        db.session.execute(
            delete(PushSubscription)
            .where(PushSubscription.id == message.subscription_id)
            .execution_options(synchronize_session=False)
        )
        return DEAD
    _subscription_failed(message)
    if status == 429 or status >= 500 or status in (401, 403):
        if status in (401, 403):
            sender.forget(message.endpoint)
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), now)
        return _retry(message, f"push service answered {status}", now, retry_after, rng)
    _record(
        message,
        state=FAILED,
        last_error=f"push service refused the message: {status} {response.text[:200]}",
    )
    return FAILED


def deliver_due(
    now: datetime | None = None,
    limit: int = CLAIM_BATCH,
    concurrency: int = SEND_CONCURRENCY,
    rng: random.Random | None = None,
) -> int:
    """Drain due rows batch by batch until none are due; returns how many were sent.

    A batch that ends with an error (the database went away) is given up, not renewed
    (``claims.abandoned_on_error``): it is due again a lease later.

    A claimed batch is sent on up to ``concurrency`` threads at once (a push service
    is a network round trip away; waiting for each in turn wastes the worker), never
    more than ``concurrency`` ahead of what is recorded, while all database work stays
    on this thread. Each outcome is committed as soon as its
    answer arrives, so a crash costs at most the messages then in flight (sent once
    more, with the same ``Topic``, when their lease runs out).

    ``now`` fixes the clock for the whole run (what is due, and when a retry comes back);
    omitted, each reading is the current time. ``rng`` is the random source of the jitter.
    """
    sender = pusher()
    sent = 0
    while True:
        with claims.abandoned_on_error():
            ids = claim_due(limit, now)
            if not ids:
                return sent
            sent += _deliver_claimed(ids, sender, now, concurrency, rng)


def _deliver_claimed(
    ids: list[int],
    sender: Pusher,
    now: datetime | None,
    concurrency: int,
    rng: random.Random | None,
) -> int:
    """Send one claimed batch, committing each outcome as its answer arrives; returns
    how many were sent."""
    sent = 0
    messages = claimed_messages(ids)
    for message in messages:
        if message.subscription_id is None or _endpoint_refused(message):
            state = deliver_one(message, sender, now, rng)
            db.session.commit()
            log_delivery("push", message.id, state, message.http_request_id)
    live = [m for m in messages if m.subscription_id is not None and not _endpoint_refused(m)]
    for message, attempt in _answers(live, sender, concurrency):
        state = record_outcome(message, attempt, sender, now, rng)
        db.session.commit()
        log_delivery("push", message.id, state, message.http_request_id)
        if state == SENT:
            sent += 1
    return sent


def _answers(
    messages: list[Message], sender: Pusher, concurrency: int
) -> Iterator[tuple[Message, Attempt]]:
    """Send ``messages``, at most ``concurrency`` at once, yielding each with its answer
    as it arrives. A new send starts only when an answer was handed back (and so
    recorded by the caller): the messages sent but not yet recorded — the ones a crash
    leaves in doubt — are never more than ``concurrency``."""
    if concurrency <= 1:
        yield from ((message, send(message, sender)) for message in messages)
        return
    pool = _sending_pool(concurrency)
    waiting = iter(messages)
    in_flight: dict[Future, Message] = {}

    def start_next() -> None:
        message = next(waiting, None)
        if message is not None:
            in_flight[pool.submit(send, message, sender)] = message

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
