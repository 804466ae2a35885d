"""Text-message notifications: the closure and the city's questions, by SMS, to residents
who reported by text.

``on_change`` is the text channel's subscriber (``webapp.domain.subscriptions``): inside
the transaction of a change it writes one ``NotificationOutbox`` row (channel ``text``,
the ``phone``) in the reporter's language, so a change that rolls back sends nothing and
a number that said STOP gets nothing. ``deliver_due`` is the job: it claims due rows
with the same lease as push and e-mail (``claims``), and for each one, one at a time,
with its outcome committed before the next is sent (a crash re-sends at most the one
in flight):

- a number that said STOP since: dropped;
- quiet hours (``TEXT_QUIET_HOURS``, city time): held until the morning;
- the daily cap (``TEXT_DAILY_CAP`` sent to one number since the city's midnight):
  held until the next morning;
- otherwise sent through the provider, and kept as an outbound ``TextMessage`` on the
  number's record.

Each function takes ``now`` so the tests choose the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from webapp.content_i18n import localized
from webapp.domain import glossary
from webapp.domain import sms_segments as segments
from webapp.domain.notifications import claims, notify
from webapp.domain.notifications.mail import base_url
from webapp.domain.notifications.push import backoff_seconds
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
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_ATTEMPTS = 8
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


# --- delivery -------------------------------------------------------------------------


def record(
    row_id: int, token: str | None, values: dict, *, sent: TextMessage | None = None
) -> bool:
    """Write one row's outcome (and the outbound message) and commit at once, while the
    claim is still this worker's; returns whether it was written."""
    written = db.session.execute(
        update(NotificationOutbox)
        .where(claims.still_mine(row_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if sent is not None and written.rowcount == 1:
        db.session.add(sent)
    db.session.commit()
    return written.rowcount == 1


def _hold(until: datetime, attempts: int, reason: str) -> dict:
    """Back to pending until ``until``, without counting the claim as an attempt."""
    return {
        "state": PENDING,
        "next_attempt_at": until,
        "claim_token": None,
        "attempts": max(attempts - 1, 0),
        "last_error": reason,
    }


def _deliver(row: NotificationOutbox, now: datetime) -> bool:
    """Send one claimed row, or hold or drop it; returns whether it was sent."""
    row_id, token, attempts = row.id, row.claim_token, row.attempts
    phone, body, request_id = row.phone, (row.payload or {}).get("body", ""), row.request_id
    if not phone or not body or is_stopped(phone):
        record(row_id, token, {"state": FAILED, "last_error": "the number texted STOP"})
        return False
    quiet_end = held_until(now)
    if quiet_end is not None:
        record(row_id, token, _hold(quiet_end, attempts, "quiet hours"))
        return False
    cap = int(current_app.config.get("TEXT_DAILY_CAP") or 0)
    if cap and _sent_today(phone, now) >= cap:
        record(row_id, token, _hold(next_morning(now), attempts, "daily cap reached"))
        return False
    try:
        sid = provider().send(phone, body)
    except ProviderError as error:
        if error.permanent or attempts >= MAX_ATTEMPTS:
            record(row_id, token, {"state": FAILED, "last_error": str(error)[:1000]})
        else:
            retry_at = now + timedelta(seconds=backoff_seconds(attempts))
            record(
                row_id,
                token,
                {"state": PENDING, "last_error": str(error)[:1000], "next_attempt_at": retry_at},
            )
        return False
    sent = TextMessage(
        provider_sid=sid[:64],
        phone=phone,
        direction="out",
        body=body,
        segments=segments.segments(body),
        outcome="notification",
        request_id=request_id,
        created_at=now,
    )
    return record(
        row_id,
        token,
        {"state": SENT, "sent_at": now, "last_error": None, "message_id": sid[:255]},
        sent=sent,
    )


def deliver_due(now: datetime | None = None, limit: int = CLAIM_BATCH) -> int:
    """Drain due text rows batch by batch; returns how many were sent."""
    if not is_configured(current_app.config):
        return 0
    sent = 0
    while True:
        fixed = now or utcnow()
        ids = claims.claim_due(limit, fixed, channel=TEXT)
        if not ids:
            return sent
        rows = db.session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.id.in_(ids), NotificationOutbox.state == SENDING)
            .order_by(NotificationOutbox.id)
        ).all()
        for row in rows:
            sent += int(_deliver(row, fixed))
