"""Who is sending which outbox message, and until when: claims with a short lease that
a live worker keeps renewing.

A worker **claims** due rows of one channel (push, e-mail) in one statement: each is
marked ``sending``, stamped with the worker's ``claim_token`` and leased until
``now + LEASE``. While the worker lives, its heartbeat (``renew``, every
``HEARTBEAT_SECONDS`` from the worker's own thread, see ``webapp.jobs.runner``) pushes
the lease of every row it still holds forward. A worker that dies stops renewing, so
its unrecorded rows are due again about a minute later and another worker (or the
same one, restarted) claims them. Outcomes are written only while the row is still
claimed by the same token (``still_mine``), so a worker that was presumed dead and
comes back cannot overwrite what its successor recorded.

Why a lease and not PostgreSQL's advisory locks tied to the worker's connection: a
lease works the same on SQLite (the embedded default and the test suite) and on
PostgreSQL, survives a pooled connection being recycled, and needs no connection held
open for the whole of a batch; its only cost is one small UPDATE per worker every
``HEARTBEAT_SECONDS``. The price of a lease is that a message sent just before its
worker died is in doubt: it is sent once more after the lease runs out, with the same
push ``Topic`` and e-mail ``Message-ID`` (kept on the row), so the duplicate collapses
where the protocol allows.

A worker that stays alive but gives up on a batch (the database went away while it was
recording answers, and the round ended with an error) must not keep that batch's lease
alive: its heartbeat would renew rows nobody is sending any more, and they would never be
sent while the process lives. A batch is therefore worked on inside ``abandoned_on_error``:
when it ends with an error the process takes a new claim token, so the heartbeat (which
renews the current token's rows) stops renewing the abandoned rows, and they are due
again a lease later — for this worker as for any other. One worker process runs its
batches one at a time (the runner's loop), so a new token never strands another batch.

Every function takes ``now`` (the clock reading to use) so tests never read the wall
clock.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, func, literal, or_, select, update

from webapp.models import NotificationOutbox, utcnow
from webapp.plumbing.extensions import db

PENDING, SENDING = "pending", "sending"
LEASE = timedelta(seconds=60)
HEARTBEAT_SECONDS = 15  # a live worker renews its lease four times per LEASE
TOPIC_PREFIX = "outbox"

_token: tuple[int, str] | None = None


def worker_token() -> str:
    """This process's claim token (host, process id and a random part; a new one after
    a fork, so a child never renews its parent's claims)."""
    global _token
    pid = os.getpid()
    if _token is None or _token[0] != pid:
        host = socket.gethostname()[:16]
        _token = (pid, f"{host}-{pid}-{secrets.token_hex(6)}"[:40])
    return _token[1]


def abandon_claims() -> None:
    """Stop renewing every row this process holds: take a new claim token, so the rows
    held under the old one are due again once their lease runs out. Needs no database
    (it is what a worker does when the database has just gone away)."""
    global _token
    _token = None


@contextlib.contextmanager
def abandoned_on_error() -> Iterator[None]:
    """Work on a claimed batch: if it ends with an error, its unrecorded rows are given
    up (``abandon_claims``) instead of being renewed for as long as the process lives."""
    try:
        yield
    except BaseException:
        abandon_claims()
        raise


def _topic_when_missing(channel: str) -> ColumnElement | None:
    """Push rows keep their ``Topic``; one without gets a per-message topic at claim time
    (``outbox<id>``), so a resend after a crash replaces the first copy at the push
    service instead of showing twice."""
    if channel != "push":
        return None
    return func.coalesce(
        NotificationOutbox.topic,
        literal(TOPIC_PREFIX).concat(cast(NotificationOutbox.id, String)),
    )


def claim_due(
    limit: int,
    now: datetime | None = None,
    channel: str = "push",
    token: str | None = None,
) -> list[int]:
    """Claim up to ``limit`` due rows of ``channel`` for the worker ``token`` (this
    process's when omitted) and commit; returns their ids.

    Due means pending with ``next_attempt_at <= now``, or ``sending`` with a lease that
    ran out (its worker died). One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
    LOCKED) … RETURNING claims them: on PostgreSQL concurrent workers skip each other's
    rows; on SQLite the statement holds the single write lock.
    """
    now = now or utcnow()
    due = (
        select(NotificationOutbox.id)
        .where(
            NotificationOutbox.channel == channel,
            or_(NotificationOutbox.state == PENDING, NotificationOutbox.state == SENDING),
            NotificationOutbox.next_attempt_at <= now,
        )
        .order_by(NotificationOutbox.next_attempt_at, NotificationOutbox.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    values = {
        "state": SENDING,
        "next_attempt_at": now + LEASE,
        "attempts": NotificationOutbox.attempts + 1,
        "claim_token": token or worker_token(),
    }
    topic = _topic_when_missing(channel)
    if topic is not None:
        values["topic"] = topic
    claimed = db.session.execute(
        update(NotificationOutbox)
        .where(NotificationOutbox.id.in_(due.scalar_subquery()))
        .values(**values)
        .returning(NotificationOutbox.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(claimed.scalars())
    db.session.commit()
    return ids


def renew_statement(token: str, now: datetime):
    """The heartbeat's UPDATE: every row ``token`` still holds is leased until
    ``now + LEASE`` (run on any connection; the caller commits)."""
    return (
        update(NotificationOutbox)
        .where(NotificationOutbox.state == SENDING, NotificationOutbox.claim_token == token)
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )


def renew(now: datetime | None = None, token: str | None = None) -> int:
    """Extend the lease of every row this worker holds and commit; returns how many."""
    result = db.session.execute(renew_statement(token or worker_token(), now or utcnow()))
    db.session.commit()
    return result.rowcount or 0


def still_mine(row_id: int, token: str | None) -> ColumnElement:
    """The WHERE clause that writes an outcome only while ``token`` holds the claim."""
    return (
        (NotificationOutbox.id == row_id)
        & (NotificationOutbox.state == SENDING)
        & (NotificationOutbox.claim_token == token)
    )
