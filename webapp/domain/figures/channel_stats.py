"""Contacts per channel per week and the self-service share, for staff and for /stats.

Self-service is what residents did on their own: the app, the website and text messages
(reports, and answers that resolved a question; a text conversation is answered by the
app, not a person). Assisted is what took a person at the city:
phone, walk-in, e-mail and live chat (a call-taker answers it). Liaison and Open311 contacts are counted per channel but in
neither side of the share. Counts are grouped by day in SQL (both databases), then
into ISO weeks (Monday first) here. The public figures carry no personal data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from webapp.models import Channel, Contact, ContactKind, utcnow
from webapp.plumbing.extensions import db

SELF_SERVICE = (Channel.PWA, Channel.WEB, Channel.TEXT)
ASSISTED = (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL, Channel.CHAT)
CHANNEL_ORDER = [c.value for c in Channel]
DEFAULT_WEEKS = 12


@dataclass
class Week:
    """One week's contacts."""

    start: date
    by_channel: dict[str, int] = field(default_factory=dict)
    self_service_answers: int = 0

    @property
    def total(self) -> int:
        """Every contact that week."""
        return sum(self.by_channel.values())

    @property
    def self_service_share(self) -> float | None:
        """Self-service ÷ (self-service + assisted), or None when there were neither."""
        return share(self.by_channel)


@dataclass
class ChannelFigures:
    """The weeks, newest first, and the totals over them."""

    weeks: list[Week]
    totals: dict[str, int]
    self_service_share: float | None
    answers_resolved: int
    channels: list[str]


def share(counts: dict[str, int]) -> float | None:
    """The self-service share of some per-channel counts."""
    own = sum(counts.get(c, 0) for c in SELF_SERVICE)
    assisted = sum(counts.get(c, 0) for c in ASSISTED)
    return None if own + assisted == 0 else round(own / (own + assisted), 3)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(weeks: int = DEFAULT_WEEKS, *, now: datetime | None = None) -> ChannelFigures:
    """Contacts per channel per week over the last ``weeks`` weeks (this week included)."""
    today = (now or utcnow()).date()
    first = _monday(today) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    day = func.date(Contact.created_at)
    rows = db.session.execute(
        select(day, Contact.channel, Contact.kind, func.count(Contact.id))
        .where(Contact.created_at >= since)
        .group_by(day, Contact.channel, Contact.kind)
    ).all()
    buckets = {first + timedelta(weeks=n): Week(first + timedelta(weeks=n)) for n in range(weeks)}
    totals: dict[str, int] = {}
    resolved = 0
    for raw_day, channel, kind, count in rows:
        when = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
        week = buckets.get(_monday(when))
        if week is None:
            continue
        week.by_channel[channel] = week.by_channel.get(channel, 0) + count
        totals[channel] = totals.get(channel, 0) + count
        if kind == ContactKind.SELF_SERVICE:
            week.self_service_answers += count
            resolved += count
    used = [c for c in CHANNEL_ORDER if totals.get(c)]
    return ChannelFigures(
        weeks=sorted(buckets.values(), key=lambda w: w.start, reverse=True),
        totals=totals,
        self_service_share=share(totals),
        answers_resolved=resolved,
        channels=used or list(SELF_SERVICE + ASSISTED),
    )


PUBLIC_FIELDS = [
    "contact_id",
    "created_at",
    "channel",
    "kind",
    "service_code",
    "topic",
    "answer",
    "request_id",
]
PRIVATE_FIELDS = PUBLIC_FIELDS + [
    "handler",
    "caller_name",
    "caller_email",
    "caller_phone",
    "caller_address",
    "note",
]


def contact_rows(private: bool) -> Iterator[dict]:
    """Every contact, oldest first; personal data only when ``private``."""
    query = select(Contact).order_by(Contact.id).execution_options(yield_per=500)
    for c in db.session.scalars(query):
        row = {
            "contact_id": c.id,
            "created_at": c.created_at.isoformat(timespec="seconds"),
            "channel": c.channel,
            "kind": c.kind,
            "service_code": c.service.service_code if c.service else "",
            # Free-text topics (an e-mail's subject, a call-taker's words) may name people.
            "topic": (c.topic or "") if private else (c.answer.title if c.answer else ""),
            "answer": c.answer.slug if c.answer else "",
            "request_id": c.request.public_id if c.request else "",
        }
        if private:
            row.update(
                handler=c.handler.display_name if c.handler else "",
                caller_name=c.caller_name or "",
                caller_email=c.caller_email or "",
                caller_phone=c.caller_phone or "",
                caller_address=c.caller_address or "",
                note=c.note or "",
            )
        yield row


def _cell(value):
    """Spreadsheets must not run a cell as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def contacts_csv(private: bool) -> Iterator[str]:
    """The contacts as CSV text in chunks (public: no personal data)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PRIVATE_FIELDS if private else PUBLIC_FIELDS)
    writer.writeheader()
    for row in contact_rows(private):
        writer.writerow({k: _cell(v) for k, v in row.items()})
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
