"""The e-mail channel behind the outbox's one loop: its rows composed, sent over SMTP, and
what each answer means.

2xx → ``sent``; 4xx, a dropped connection or an unreachable server → retried with
exponential backoff; 5xx → ``failed`` with the server's words kept, and a refused
recipient (5xx on RCPT) marks the address as bounced so it gets no more mail. A row
whose address must not be mailed is ``dead`` before anything is sent. Every row stays as
the delivery log staff see on the workbench.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import select

from webapp.domain.notifications import outbox
from webapp.domain.notifications.email import mail_queue
from webapp.domain.notifications.email.addresses import blocked_reasons, mark_bounced
from webapp.domain.notifications.email.mail_compose import PRELOADED_PHOTOS, compose, preload
from webapp.domain.notifications.email.mail_queue import EMAIL
from webapp.domain.notifications.email.smtp_sending import Answer, send_all
from webapp.domain.notifications.outbox import DEAD, FAILED, SENDING, SENT, Composed
from webapp.models import NotificationOutbox, RequestEvent
from webapp.plumbing.extensions import db

CLAIM_BATCH = 100


@dataclass(frozen=True)
class Claimed:
    """What recording one claimed message's outcome needs, read before sending (every
    commit expires the ORM rows; reloading each would cost a query per message)."""

    id: int
    claim_token: str | None
    attempts: int
    email_to: str
    http_request_id: str | None = None  # the web request that queued it, for the logs


def _smtp_words(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


def outcome_of(message: Claimed, error: Exception | None, now: datetime) -> dict:
    """What the mail server's answer about one message means for its row (a refused
    address is marked bounced on the way)."""
    if error is None:
        return {"state": SENT, "sent_at": now, "last_error": None}
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        words = _smtp_words(code, text)
        if 500 <= code < 600:
            mark_bounced(message.email_to, words)
            return {"state": FAILED, "last_error": f"mail server refused the address: {words}"}
        return outbox.retry_later(message, f"mail server answered {words}", now)
    if isinstance(error, smtplib.SMTPResponseException):
        words = _smtp_words(error.smtp_code, error.smtp_error)
        if 500 <= error.smtp_code < 600:
            return {"state": FAILED, "last_error": f"mail server refused the message: {words}"}
        return outbox.retry_later(message, f"mail server answered {words}", now)
    unreachable = f"mail server unreachable: {type(error).__name__}: {error}"
    return outbox.retry_later(message, unreachable, now)


def _compose_batch(rows: list[NotificationOutbox]) -> Composed:
    """Each row's message, composed with the database (a batch's requests, events and
    photos loaded in a few queries); a row whose address must not be mailed is ``dead``
    and one that cannot be composed (a broken template, a missing photo file) ``failed``."""
    blocked = blocked_reasons(rows)
    kept = preload(rows)
    composed = Composed()
    for row in rows:
        claimed = Claimed(row.id, row.claim_token, row.attempts, row.email_to, row.http_request_id)
        reason = blocked.get((row.email_to.lower(), row.request_id))
        if reason:
            composed.stopped.append((claimed, {"state": DEAD, "last_error": f"not sent: {reason}"}))
            continue
        try:
            composed.ready.append((claimed, compose(row)))
        except Exception as error:  # a broken template or a missing photo file
            current_app.logger.exception("could not compose e-mail %s", row.id)
            composed.stopped.append(
                (claimed, {"state": FAILED, "last_error": f"could not compose: {error}"})
            )
    db.session.info.pop(PRELOADED_PHOTOS, None)
    del kept
    return composed


@dataclass
class EmailChannel:
    """E-mail behind the outbox's interface (``outbox.Channel``). ``connections``: SMTP
    connections in parallel (``smtp_sending.SEND_CONNECTIONS`` when None)."""

    connections: int | None = None
    name: str = EMAIL
    batch: int = CLAIM_BATCH

    def hears(self, entry: RequestEvent) -> NotificationOutbox | None:
        """The resident's update or closure mail, and followers' who asked by e-mail."""
        return mail_queue.on_change(entry)

    def claimed(self, ids: list[int]) -> list[NotificationOutbox]:
        """The claimed rows, oldest first."""
        return list(
            db.session.scalars(
                select(NotificationOutbox)
                .where(NotificationOutbox.id.in_(ids), NotificationOutbox.state == SENDING)
                .order_by(NotificationOutbox.id)
            )
        )

    def compose(self, messages: list[NotificationOutbox], now: datetime) -> Composed:
        """Every message composed now, its Message-ID fixed on its row."""
        return _compose_batch(messages)

    def send(self, sendables: list[EmailMultiAlternatives]) -> Iterator[Answer]:
        """Each message's ``(index, error)`` as the mail server answers it."""
        return send_all(sendables, self.connections)

    def outcome(self, message: Claimed, answer: Exception | None, now: datetime) -> dict:
        """What the mail server said (``outcome_of``)."""
        return outcome_of(message, answer, now)


CHANNEL = EmailChannel()


def send_batch(
    rows: list[NotificationOutbox], now: datetime | None = None, connections: int | None = None
) -> int:
    """Send claimed rows, recording and committing each outcome as its answer arrives;
    returns how many were sent.

    Messages are composed first (with the database) and their Message-IDs committed
    before anything goes out, so a message resent after a crash is the same message.
    A connection the server dropped (421, disconnect) is reopened; when the server
    cannot be reached at all, every row is rescheduled with backoff. ``now`` dates the
    outcomes (the current time of each answer when omitted).
    """
    return outbox.deliver(EmailChannel(connections), rows, now)


def deliver_due(now: datetime | None = None, limit: int = CLAIM_BATCH) -> int:
    """Drain due e-mail rows through the outbox's one loop (SMTP connections reused
    across each batch); returns how many were sent. A crash loses nothing already
    answered; the messages then in flight are sent once more, with the same Message-ID,
    when their lease runs out.

    ``now`` fixes the clock for the whole run (what is due, the lease, the outcomes)."""
    return outbox.deliver_due(CHANNEL, now, limit)
