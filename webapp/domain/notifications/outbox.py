"""The notification outbox: the one loop that claims, composes, sends and records, for
every channel, and the one small interface a channel fills in.

Every message to a person (a push, an e-mail, later a text) is a ``NotificationOutbox``
row written in the transaction of the change that caused it, so a change that rolls
back tells nobody. After commit a worker drains the rows of one channel with
``deliver_due(channel)``, batch by batch:

1. **claim** due rows (``claims.claim_due``: ``sending``, this worker's claim token, a
   one-minute lease its heartbeat renews; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
2. **compose** them (``channel.claimed`` reads the rows, ``channel.compose`` makes each
   sendable, or stops it at once with its outcome: an address that must not be mailed,
   a subscription that is gone). What composing fixed on the rows (an e-mail's
   Message-ID) is committed before anything goes out, so a resend is the same message;
3. **send** them (``channel.send`` yields each answer as it arrives and sends the next
   only once the last was recorded, so few messages are ever in doubt);
4. **record** each outcome on its row as its answer arrives (``channel.outcome`` says
   what the answer means; ``record`` writes it, only while the claim is still this
   worker's, and commits), never at the end of a batch.

A channel is who wants an event (``hears``, called by its subscription in
``domain/subscriptions.py``), plus ``claimed``, ``compose``, ``send`` and ``outcome``; see
``Channel`` and docs/architecture.md ("Adding a channel"). The retry rule is shared:
exponential backoff with jitter, honouring what the other side asked, up to
``MAX_ATTEMPTS``, then ``failed`` with the reason.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from webapp.domain.notifications import claims
from webapp.models import NotificationOutbox, RequestEvent, ServiceRequest, utcnow
from webapp.plumbing.extensions import db
from webapp.plumbing.request_log import log_delivery

PENDING, SENDING, SENT, DEAD, FAILED = "pending", "sending", "sent", "dead", "failed"
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
RETRY_AFTER_MAX_SECONDS = 24 * 3600


class Claimed(Protocol):
    """What recording a claimed message needs: its row and the claim it was sent under."""

    id: int
    claim_token: str | None
    attempts: int


@dataclass
class Composed:
    """A claimed batch, composed: ``ready`` (message, what to send) in sending order, and
    ``stopped`` (message, the row's outcome) that need no sending."""

    ready: list[tuple[Any, Any]] = field(default_factory=list)
    stopped: list[tuple[Any, dict]] = field(default_factory=list)


class Channel(Protocol):
    """One way of reaching people, as the outbox sees it.

    ``name`` is the rows' ``channel`` column and ``batch`` how many rows one claim takes.
    ``hears(entry)``: who wants this timeline entry; queues their rows in the caller's
    transaction. ``claimed(ids)``: the claimed rows, read for sending (``Claimed``).
    ``compose(messages, now)``: each made sendable, or stopped with its outcome (no
    network; ``now`` for rules of the clock, such as a channel's quiet hours).
    ``send(sendables)``: yields ``(index, answer)`` as each answer arrives, sending the
    next only once the caller recorded the last (no database work; may use threads).
    ``outcome(message, answer, now)``: the row's new values (``state`` among them); it
    may write what the answer means elsewhere (a subscription gone, an address bounced)
    in the same transaction.
    """

    name: str
    batch: int

    def hears(self, entry: RequestEvent) -> object: ...

    def claimed(self, ids: list[int]) -> Sequence[Claimed]: ...

    def compose(self, messages: Sequence[Claimed], now: datetime) -> Composed: ...

    def send(self, sendables: list) -> Iterator[tuple[int, Any]]: ...

    def outcome(self, message: Claimed, answer: Any, now: datetime) -> dict: ...


def deliver_due(channel: Channel, now: datetime | None = None, limit: int | None = None) -> int:
    """Drain the channel's due rows batch by batch until none are due: claim, compose,
    send, record each outcome as it arrives; returns how many were sent. A crash loses
    nothing already answered; the messages then in flight are sent once more (same
    Topic, same Message-ID) when their lease runs out.

    ``now`` fixes the clock for the whole run (what is due, the lease, the outcomes);
    omitted, each reading is the current time."""
    sent = 0
    while True:
        # A batch that ends in an error (the database went away) is given up, not
        # renewed by the heartbeat for as long as the process lives: due a lease later.
        with claims.abandoned_on_error():
            ids = claims.claim_due(limit or channel.batch, now, channel.name)
            if not ids:
                return sent
            sent += deliver(channel, channel.claimed(ids), now)


def deliver(channel: Channel, messages: Sequence[Claimed], now: datetime | None = None) -> int:
    """Compose, send and record one claimed batch; returns how many were sent."""
    composed = channel.compose(messages, now or utcnow())
    db.session.commit()  # what composing fixed on the rows, before any send
    for message, values in composed.stopped:
        _record_and_log(channel, message, values)
    sent = 0
    sendables = [sendable for _message, sendable in composed.ready]
    with contextlib.closing(channel.send(sendables)) as answers:
        for index, answer in answers:
            message = composed.ready[index][0]
            values = channel.outcome(message, answer, now or utcnow())
            if _record_and_log(channel, message, values) and values["state"] == SENT:
                sent += 1
    return sent


def _record_and_log(channel: Channel, message: Claimed, values: dict) -> bool:
    """``record``, then one log line for the outcome, carrying the id of the web request
    that queued the message (no address or endpoint), when it was written."""
    if not record(message, values):
        return False
    log_delivery(channel.name, message.id, values["state"], getattr(message, "http_request_id", None))
    return True


def record(message: Claimed, values: dict) -> bool:
    """Write one message's outcome and commit it at once, while the claim is still this
    worker's; returns whether it was written (False: the lease ran out and another
    worker took the message over)."""
    if values.get("last_error"):
        values = {**values, "last_error": values["last_error"][:1000]}
    written = db.session.execute(
        update(NotificationOutbox)
        .where(claims.still_mine(message.id, message.claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return written.rowcount == 1


def backoff_base_seconds(attempts: int) -> float:
    """The backoff before jitter: 30 s, 1 min, 2 min … capped at 6 h."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with ±20 % jitter, so many failed sends do not all return at
    the same moment. ``rng`` is the random source (the module's own when omitted); tests
    give a seeded one."""
    return backoff_base_seconds(attempts) * (rng or random).uniform(0.8, 1.2)


def retry_later(
    message: Claimed,
    error: str,
    now: datetime,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> dict:
    """Back off and try again later (at least as long as the other side asked, within a
    day), or give up after MAX_ATTEMPTS and say why."""
    if message.attempts >= MAX_ATTEMPTS:
        gave_up = f"gave up after {message.attempts} attempts: {error}"
        return {"state": FAILED, "last_error": gave_up}
    delay = backoff_seconds(message.attempts, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_SECONDS))
    later = now + timedelta(seconds=delay)
    return {"state": PENDING, "last_error": error, "next_attempt_at": later}


def delivery_log(request: ServiceRequest) -> list[NotificationOutbox]:
    """Every message about a request, every channel, oldest first (for staff)."""
    return list(
        db.session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.request_id == request.id)
            .order_by(NotificationOutbox.created_at, NotificationOutbox.id)
        )
    )
