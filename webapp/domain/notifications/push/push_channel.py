"""The Web Push channel behind the outbox's one loop: claimed rows with their subscriptions,
and what each push service's answer means.

Rows are written by ``notify.on_event`` in the same transaction as the change. Outcomes:
2xx → ``sent``; 404/410 → the subscription is deleted and the row is ``dead``; 429, 5xx
and network errors → retried with exponential backoff (honouring ``Retry-After``) until
``outbox.MAX_ATTEMPTS``, then ``failed`` with the reason kept; other 4xx → ``failed`` at
once. A subscription whose endpoint is not on an allowed push service is never
contacted: it is dropped. A message resent after a crash keeps its ``Topic``, so it
replaces itself at the push service.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import current_app
from sqlalchemy import delete, select, update

from webapp.domain.notifications import notify, outbox, push_endpoints
from webapp.domain.notifications.outbox import DEAD, FAILED, SENDING, SENT, Composed
from webapp.domain.notifications.push.push_sender import (
    SEND_CONCURRENCY,
    Attempt,
    Message,
    Pusher,
    pusher,
    send_all,
)
from webapp.models import NotificationOutbox, PushSubscription, RequestEvent
from webapp.plumbing.extensions import db

PUSH = "push"
CLAIM_BATCH = 50
SUCCESS = {200, 201, 202}
GONE = {404, 410}


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


def _subscription_failed(message: Message) -> None:
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == message.subscription_id)
        .values(failure_count=PushSubscription.failure_count + 1)
        .execution_options(synchronize_session=False)
    )


def endpoint_refused(message: Message) -> bool:
    """True when the subscription's endpoint is no longer on the allowed push services."""
    services = current_app.config["PUSH_SERVICES"]
    return not push_endpoints.endpoint_allowed(message.endpoint or "", services)


def _drop_subscription(message: Message) -> None:
    db.session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == message.subscription_id)
        .execution_options(synchronize_session=False)
    )


def _stopped_before_sending(message: Message) -> dict | None:
    """A message with no subscription left, or whose endpoint is no longer on an allowed
    push service (never connected to: the subscription is dropped), is ``dead``."""
    if message.subscription_id is None:
        return {"state": DEAD, "last_error": "subscription no longer exists"}
    if endpoint_refused(message):
        _drop_subscription(message)
        return {"state": DEAD, "last_error": "endpoint is not on an allowed push service"}
    return None


def outcome_of(
    message: Message,
    attempt: Attempt,
    sender: Pusher,
    now: datetime,
    rng: random.Random | None = None,
) -> dict:
    """What the push service's answer means for the row, and for the subscription (its
    success, its failures, or its end), written in the caller's transaction. ``rng`` is
    the random source of a retry's jitter."""
    if attempt.error is not None:
        _subscription_failed(message)
        error = f"network error: {type(attempt.error).__name__}"
        return outbox.retry_later(message, error, now, None, rng)
    response = attempt.response
    status = response.status_code
    if status in SUCCESS:
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.id == message.subscription_id)
            .values(last_success_at=now, failure_count=0)
            .execution_options(synchronize_session=False)
        )
        return {"state": SENT, "last_error": None, "sent_at": now}
    if status in GONE:
        _drop_subscription(message)
        return {"state": DEAD, "last_error": f"push service answered {status}: subscription gone"}
    _subscription_failed(message)
    if status == 429 or status >= 500 or status in (401, 403):
        if status in (401, 403):
            sender.forget(message.endpoint)
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), now)
        return outbox.retry_later(message, f"push service answered {status}", now, retry_after, rng)
    return {
        "state": FAILED,
        "last_error": f"push service refused the message: {status} {response.text[:200]}",
    }


@dataclass
class PushChannel:
    """Web Push behind the outbox's interface (``outbox.Channel``).

    ``concurrency``: sends in flight at once (a push service is a network round trip
    away; waiting for each in turn wastes the worker). ``rng``: the random source of the
    retries' jitter. The app's ``Pusher`` is built when the first batch is sent."""

    concurrency: int = SEND_CONCURRENCY
    rng: random.Random | None = None
    sender: Pusher | None = None
    name: str = PUSH
    batch: int = CLAIM_BATCH

    def hears(self, entry: RequestEvent) -> int:
        """One outbox row per follower's subscription that wants this entry."""
        return notify.on_event(entry)

    def claimed(self, ids: list[int]) -> list[Message]:
        """The claimed rows with their subscriptions."""
        return claimed_messages(ids)

    def compose(self, messages: list[Message], now: datetime) -> Composed:
        """Pushes carry their payload already; only the ones that cannot go are stopped."""
        composed = Composed()
        for message in messages:
            stopped = _stopped_before_sending(message)
            if stopped is None:
                composed.ready.append((message, message))
            else:
                composed.stopped.append((message, stopped))
        return composed

    def send(self, sendables: list[Message]) -> Iterator[tuple[int, Attempt]]:
        """Each push's answer as it arrives, at most ``concurrency`` in flight."""
        if self.sender is None:
            self.sender = pusher()
        return send_all(sendables, self.sender, self.concurrency)

    def outcome(self, message: Message, answer: Attempt, now: datetime) -> dict:
        """What the push service said (``outcome_of``)."""
        return outcome_of(message, answer, self.sender or pusher(), now, self.rng)


CHANNEL = PushChannel()


def deliver_due(
    now: datetime | None = None,
    limit: int = CLAIM_BATCH,
    concurrency: int = SEND_CONCURRENCY,
    rng: random.Random | None = None,
) -> int:
    """Drain due push rows through the outbox's one loop; returns how many were sent.

    A claimed batch is sent on up to ``concurrency`` threads at once, never more than
    ``concurrency`` ahead of what is recorded, while all database work stays on this
    thread; each outcome is committed as soon as its answer arrives, so a crash costs at
    most the messages then in flight (sent once more, with the same ``Topic``, when
    their lease runs out). ``now`` fixes the clock for the whole run; ``rng`` is the
    random source of the jitter."""
    channel = PushChannel(concurrency=concurrency, rng=rng, sender=pusher())
    return outbox.deliver_due(channel, now, limit)
