"""Text-message notifications: the closure and the city's questions, by SMS, to residents
who reported by text.

``on_change`` is the text channel's subscriber (``webapp.domain.subscriptions``): inside
the transaction of a change it writes one ``NotificationOutbox`` row (channel ``text``,
the ``phone``) in the reporter's language, so a change that rolls back sends nothing and
a number that said STOP gets nothing. ``TextChannel`` is its part of the outbox's one
loop (``outbox.deliver_due``: the same claims and lease as push and e-mail), one text at
a time, each outcome committed before the next is sent (a crash re-sends at most the
one in flight):

- a number that said STOP since: dropped;
- quiet hours (``TEXT_QUIET_HOURS``, city time): held until the morning;
- the daily cap (``TEXT_DAILY_CAP`` sent to one number since the city's midnight):
  held until the next morning;
- otherwise sent through the provider, and kept as an outbound ``TextMessage`` on the
  number's record.

Each function takes ``now`` so the tests choose the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.content_i18n import localized
from webapp.domain import glossary
from webapp.domain import sms_segments as segments
from webapp.domain.notifications import notify, outbox
from webapp.domain.notifications.outbox import Composed
from webapp.domain.notifications.public_address import base_url
from webapp.i18n import render_in_locale, reporter_locale
from webapp.models import (
    Channel,
    NotificationOutbox,
    RequestEvent,
    TextMessage,
    TextNumber,
    utcnow,
)
from webapp.plumbing.extensions import db
from webapp.plumbing.text_provider import ProviderError, is_configured, provider

TEXT = "text"
PENDING, SENDING, SENT, FAILED = outbox.PENDING, outbox.SENDING, outbox.SENT, outbox.FAILED
CLAIM_BATCH = 50
# What a texter hears of: the outcome, and the city's questions (each text costs).
KINDS = (notify.ALWAYS, notify.QUESTION)


def is_stopped(phone: str | None) -> bool:
    """Whether the number said STOP (and not START since)."""
    if not phone:
        return False
    return bool(
        db.session.scalar(
            select(TextNumber.id).where(TextNumber.phone == phone, TextNumber.stopped.is_(True))
        )
    )


def compose(event: RequestEvent, kind: str) -> str:
    """The text for ``event`` in the current language, two segments at most (the note
    is shortened, never the number or the link)."""
    request = event.request
    link = f"{base_url()}/requests/{request.public_id}"
    name = localized(request.service, "name")
    if kind == notify.ALWAYS:
        head = _(
            "%(id)s %(service)s: %(outcome)s.",
            id=request.public_id,
            service=name,
            outcome=glossary.resolution_word(request.resolution),
        )
        tail = _("Not fixed? Reply %(id)s NOT FIXED. %(link)s", id=request.public_id, link=link)
    else:
        head = _("The city needs information about %(id)s:", id=request.public_id)
        tail = link
    note = " ".join((event.note or "").split())
    body = segments.fold_to_gsm7(f"{head} {note} {tail}" if note else f"{head} {tail}")
    if segments.segments(body) <= segments.TARGET_SEGMENTS or not note:
        return body
    room = segments.fold_to_gsm7(f"{head} {tail}")
    for length in range(len(note), 0, -10):
        candidate = segments.fold_to_gsm7(f"{head} {note[:length].rstrip()}... {tail}")
        if segments.segments(candidate) <= segments.TARGET_SEGMENTS:
            return candidate
    return room


def on_change(entry: RequestEvent) -> NotificationOutbox | None:
    """Queue the text about ``entry`` for the number that reported the request by text."""
    request = entry.request
    if request.channel != Channel.TEXT or not request.contact_phone:
        return None
    kind = notify.audience_kind(entry)
    if kind not in KINDS or is_stopped(request.contact_phone):
        return None
    if not is_configured(current_app.config):
        return None
    body = render_in_locale(reporter_locale(request), lambda: compose(entry, kind))
    row = NotificationOutbox(
        channel=TEXT,
        phone=request.contact_phone,
        request_id=request.id,
        event_id=entry.id,
        kind=kind,
        payload={"body": body},
        state=PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


# --- the clock of the city --------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def quiet_hours() -> tuple[int, int] | None:
    """``TEXT_QUIET_HOURS`` ("21-8") as (start hour, end hour); None when unset."""
    value = (current_app.config.get("TEXT_QUIET_HOURS") or "").strip()
    if not value:
        return None
    start, _sep, end = value.partition("-")
    return int(start) % 24, int(end) % 24


def _morning(local: datetime, end: int) -> datetime:
    """The next time the city's clock reads ``end``:00 after ``local``."""
    candidate = datetime.combine(local.date(), time(end), tzinfo=local.tzinfo)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(end), local.tzinfo)
    return candidate.astimezone(UTC)


def held_until(now: datetime) -> datetime | None:
    """When quiet hours end, if ``now`` is in them; None otherwise."""
    hours = quiet_hours()
    if hours is None or hours[0] == hours[1]:
        return None
    start, end = hours
    local = now.astimezone(_zone())
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    return _morning(local, end) if quiet else None


def next_morning(now: datetime) -> datetime:
    """The first time after the city's next midnight that is outside quiet hours."""
    local = now.astimezone(_zone())
    hours = quiet_hours()
    end = hours[1] if hours else 0
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
    return _morning(midnight - timedelta(seconds=1), end) if end else midnight.astimezone(UTC)


def _sent_today(phone: str, now: datetime) -> int:
    local = now.astimezone(_zone())
    midnight = datetime.combine(local.date(), time(0), local.tzinfo).astimezone(UTC)
    return (
        db.session.scalar(
            select(func.count(NotificationOutbox.id)).where(
                NotificationOutbox.channel == TEXT,
                NotificationOutbox.phone == phone,
                NotificationOutbox.state == SENT,
                NotificationOutbox.sent_at >= midnight,
            )
        )
        or 0
    )


# --- delivery (the outbox's loop; this is the text channel's part) -------------------


@dataclass(frozen=True)
class ClaimedText:
    """A claimed text row, read before sending (commits expire ORM rows)."""

    id: int
    claim_token: str | None
    attempts: int
    phone: str | None
    body: str
    request_id: int | None
    http_request_id: str | None = None  # the web request that queued it, for the logs


def _hold(until: datetime, attempts: int, reason: str) -> dict:
    """Back to pending until ``until``, without counting the claim as an attempt."""
    return {
        "state": PENDING,
        "next_attempt_at": until,
        "claim_token": None,
        "attempts": max(attempts - 1, 0),
        "last_error": reason,
    }


@dataclass
class TextChannel:
    """Text messages behind the outbox's interface (``outbox.Channel``): one at a time,
    each outcome committed before the next is sent, so a crash re-sends at most one."""

    name: str = TEXT
    batch: int = CLAIM_BATCH

    def hears(self, entry: RequestEvent) -> NotificationOutbox | None:
        """The closure or the city's question, to a resident who reported by text."""
        return on_change(entry)

    def claimed(self, ids: list[int]) -> list[ClaimedText]:
        """The claimed rows, oldest first."""
        rows = db.session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.id.in_(ids), NotificationOutbox.state == SENDING)
            .order_by(NotificationOutbox.id)
        )
        return [
            ClaimedText(
                row.id,
                row.claim_token,
                row.attempts,
                row.phone,
                (row.payload or {}).get("body", ""),
                row.request_id,
                row.http_request_id,
            )
            for row in rows
        ]

    def compose(self, messages: list[ClaimedText], now: datetime) -> Composed:
        """Dropped for a number that said STOP; held through quiet hours and past the
        number's daily cap (counting what this batch sends); the rest are ready."""
        composed = Composed()
        quiet_end = held_until(now)
        cap = int(current_app.config.get("TEXT_DAILY_CAP") or 0)
        counted: dict[str, int] = {}  # per number: sent today, plus what this batch sends
        for message in messages:
            if not message.phone or not message.body or is_stopped(message.phone):
                composed.stopped.append(
                    (message, {"state": FAILED, "last_error": "the number texted STOP"})
                )
            elif quiet_end is not None:
                composed.stopped.append((message, _hold(quiet_end, message.attempts, "quiet hours")))
            elif cap and counted.setdefault(message.phone, _sent_today(message.phone, now)) >= cap:
                held = _hold(next_morning(now), message.attempts, "daily cap reached")
                composed.stopped.append((message, held))
            else:
                if cap:
                    counted[message.phone] += 1
                composed.ready.append((message, message))
        return composed

    def send(self, sendables: list[ClaimedText]) -> Iterator[tuple[int, str | ProviderError]]:
        """Each text's provider id (or the provider's refusal), one at a time."""
        for index, message in enumerate(sendables):
            try:
                yield index, provider().send(message.phone, message.body)
            except ProviderError as error:
                yield index, error

    def outcome(self, message: ClaimedText, answer: str | ProviderError, now: datetime) -> dict:
        """Sent (kept as an outbound message on the number's record), retried later, or
        failed when the provider refused for good."""
        if isinstance(answer, ProviderError):
            if answer.permanent:
                return {"state": FAILED, "last_error": str(answer)}
            return outbox.retry_later(message, str(answer), now)
        db.session.add(
            TextMessage(
                provider_sid=answer[:64],
                phone=message.phone,
                direction="out",
                body=message.body,
                segments=segments.segments(message.body),
                outcome="notification",
                request_id=message.request_id,
                created_at=now,
            )
        )
        return {"state": SENT, "sent_at": now, "last_error": None, "message_id": answer[:255]}


CHANNEL = TextChannel()


def deliver_due(now: datetime | None = None, limit: int = CLAIM_BATCH) -> int:
    """Drain due text rows batch by batch (nothing while no provider is set); returns
    how many were sent."""
    if not is_configured(current_app.config):
        return 0
    return outbox.deliver_due(CHANNEL, now, limit)
