"""One text message from the provider's webhook, handled exactly once.

The provider's message id (``MessageSid``) is the key: a UNIQUE column on
``text_messages``, and the key of the request a conversation makes, so a replayed
webhook gets the reply it got the first time and sets nothing off again. Then, in
order:

- a number sending more than ``TEXT_PER_NUMBER_PER_MINUTE`` messages a minute gets one
  polite refusal, then silence; every message is still recorded for staff;
- STOP/PARAR stops every text to the number (recorded) until START; a stopped number
  gets no reply to anything but HELP/AYUDA (always answered, as carriers require), which
  explains; ESPANOL/ENGLISH switch language;
- anything else is the conversation (``conversation.respond``).

The reply is written in the number's language (Spanish when it asked for it or writes
Spanish), folded to GSM-7 where a letter allows it and measured in segments. Each
conversation's outcome (a request, an answer, a status, a reopening, STOP/START) is a
contact on channel ``text`` keyed by the phone number, with the transcript as its note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.domain import sms_segments as segments
from webapp.domain.errors import DomainError
from webapp.domain.intake import contacts, mail_language
from webapp.domain.texting import conversation, keywords, replies
from webapp.i18n import render_in_locale
from webapp.models import Channel, Contact, ContactKind, TextMessage, TextNumber, utcnow
from webapp.plumbing.extensions import db

MAX_STORED = 5000
MAX_MEDIA = 10
# A reply over this many segments is cut (a knowledge answer's summary, a long label).
MAX_REPLY_SEGMENTS = 3
LANGUAGE_LETTERS = mail_language.MIN_LETTERS


@dataclass
class Incoming:
    """One webhook call: the provider's id, the sender, the words and the media
    (``(url, content type)`` pairs)."""

    sid: str
    phone: str
    body: str = ""
    media: list[tuple[str, str]] = field(default_factory=list)


def clean(text: str | None) -> str:
    """The words without NUL and other control characters (PostgreSQL refuses NUL)."""
    return "".join(
        ch for ch in (text or "") if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)
    ).strip()


def number_for(phone: str, now: datetime) -> TextNumber:
    """The number's row, made on its first message."""
    number = db.session.scalars(select(TextNumber).where(TextNumber.phone == phone)).first()
    if number is None:
        number = TextNumber(phone=phone, stopped=False, draft={}, created_at=now)
        db.session.add(number)
        db.session.flush()
    return number


def _recent(phone: str, since: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count(TextMessage.id)).where(
                TextMessage.phone == phone,
                TextMessage.direction == "in",
                TextMessage.created_at >= since,
            )
        )
        or 0
    )


def _language(number: TextNumber, command, text: str) -> None:
    """Spanish when the texter asks for it or writes it; English when asked."""
    if command.kind == "english":
        number.locale = "en"
    elif command.spanish:
        number.locale = "es"
    elif number.step is None and command.kind == "text" and _letters(text) >= LANGUAGE_LETTERS:
        # Enough words to tell; a short answer ("1", an address) keeps the language.
        number.locale = mail_language.detect(text)


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text or "")


def _carrier(number: TextNumber, command, now: datetime) -> conversation.Result | None:
    """STOP, START, HELP and the language words; None for anything else."""
    if command.kind == "stop":
        number.stopped, number.stopped_at = True, now
        conversation.reset(number)
        return conversation.Result("stop", replies.stopped(), contact_kind=ContactKind.COMMENT)
    if command.kind == "start":
        number.stopped, number.stopped_at = False, None
        conversation.reset(number)
        return conversation.Result(
            "start", replies.started(conversation.menu()), contact_kind=ContactKind.COMMENT
        )
    if command.kind == "help":
        # The carriers' rules: HELP is always answered, also for a stopped number.
        text = replies.help_while_stopped() if number.stopped else replies.help_text()
        return conversation.Result("help", text)
    if number.stopped:
        return conversation.Result("ignored", None)
    if command.kind in ("spanish", "english"):
        conversation.reset(number)
        return conversation.Result("language", replies.welcome(conversation.menu()))
    return None


def _transcript(phone: str, since: datetime | None, last: TextMessage) -> str:
    """The conversation as staff read it: "> " for the resident, "< " for the city."""
    query = select(TextMessage).where(TextMessage.phone == phone, TextMessage.id != last.id)
    if since is not None:
        query = query.where(TextMessage.created_at >= since)
    lines = []
    for row in [*db.session.scalars(query.order_by(TextMessage.id)), last]:
        lines.append(
            f"> {row.body or ''}" + (f" [{row.media_count} media]" if row.media_count else "")
        )
        if row.reply:
            lines.append(f"< {row.reply}")
    note = "\n".join(lines)
    return note if len(note) <= contacts.MAX_NOTE else "…" + note[-(contacts.MAX_NOTE - 1) :]


def _record_contact(number: TextNumber, result, row: TextMessage, since) -> None:
    note = _transcript(number.phone, since, row)
    if result.outcome == "request" and result.request is not None:
        contact = db.session.scalars(
            select(Contact).where(Contact.request_id == result.request.id)
        ).first()
        if contact is not None:
            contact.note = note
            row.contact_id = contact.id
        return
    if result.contact_kind is None:
        return
    extra = result.contact_extra
    contact = contacts.record(
        channel=Channel.TEXT,
        kind=result.contact_kind,
        request=result.request,
        answer=extra.get("answer"),
        topic=extra.get("topic") or result.outcome.upper(),
        caller_phone=number.phone,
        note=note,
    )
    row.contact_id = contact.id


def _replay_row(sid: str) -> TextMessage | None:
    return db.session.scalars(select(TextMessage).where(TextMessage.provider_sid == sid)).first()


def handle(message: Incoming, now: datetime | None = None, *, retried: bool = False) -> str | None:
    """Answer one inbound message exactly once; returns the reply (None: no reply).
    Commits."""
    now = now or utcnow()
    known = _replay_row(message.sid)
    if known is not None:
        return known.reply
    text = clean(message.body)
    media = message.media[:MAX_MEDIA]
    row = _inbound_row(message, text, media, now)
    db.session.add(row)
    try:
        number = number_for(message.phone, now)
        db.session.flush()
    except IntegrityError:
        # The same message handled at this moment by another worker, or the number's
        # first two messages arriving together: answer as the other did, or once more.
        db.session.rollback()
        known = _replay_row(message.sid)
        if known is not None or retried:
            return known.reply if known is not None else None
        return handle(message, now, retried=True)
    try:
        result, since = _answer(number, row, text, media, now)
    except DomainError as error:
        # The report could not be made (a rule refused it): the message is kept, and
        # the texter told why; the conversation stays where it was.
        db.session.rollback()
        return _refused(message, text, media, now, error)
    if result.reply:
        row.reply = segments.fold_to_gsm7(segments.shorten(result.reply, MAX_REPLY_SEGMENTS))
    row.outcome = result.outcome
    row.request_id = result.request.id if result.request is not None else None
    number.last_message_at = now
    _record_contact(number, result, row, since)
    db.session.commit()
    return row.reply


def _answer(number: TextNumber, row: TextMessage, text: str, media, now: datetime):
    """The result for one message, rendered in the number's language."""
    config = current_app.config
    command = keywords.read(text)
    limit = int(config.get("TEXT_PER_NUMBER_PER_MINUTE") or 10)
    earlier = _recent(number.phone, now - timedelta(minutes=1)) - 1  # this one is counted
    # STOP and START are honoured whatever the pace: a carrier keyword is never refused.
    if earlier >= limit and command.kind not in ("stop", "start"):
        first_over = earlier == limit
        reply = render_in_locale(number.locale, replies.flood) if first_over else None
        return conversation.Result("flood", reply), None
    idle = timedelta(minutes=int(config.get("TEXT_IDLE_MINUTES") or 30))
    if number.step and number.last_message_at and now - number.last_message_at > idle:
        conversation.reset(number)  # an idle conversation starts over
    _language(number, command, text)
    if number.step is None:
        number.draft = {"started_at": now.isoformat()}
    started = (number.draft or {}).get("started_at")
    since = datetime.fromisoformat(started) if started else None

    def answer():
        found = _carrier(number, command, now)
        if found is not None:
            return found
        return conversation.respond(number, text, media, row.provider_sid, command, now)

    result = render_in_locale(number.locale, answer)
    return result, since


def _inbound_row(message: Incoming, text: str, media, now: datetime, **outcome) -> TextMessage:
    """The stored copy of an inbound message (its words cut to ``MAX_STORED``)."""
    return TextMessage(
        provider_sid=message.sid,
        phone=message.phone,
        direction="in",
        body=text[:MAX_STORED],
        media_count=len(media),
        segments=segments.segments(text),
        created_at=now,
        **outcome,
    )


def _refused(message: Incoming, text: str, media, now: datetime, error: DomainError) -> str:
    number = number_for(message.phone, now)
    reply = render_in_locale(number.locale, lambda: replies.not_made(error.message))
    reply = segments.fold_to_gsm7(segments.shorten(reply, MAX_REPLY_SEGMENTS))
    db.session.add(_inbound_row(message, text, media, now, outcome="refused", reply=reply))
    number.last_message_at = now
    db.session.commit()
    return reply
