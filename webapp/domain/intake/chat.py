"""Live chat: a resident writes, a call-taker answers, and the chat can become a request.

Each line is stored before anyone is told of it (then announced through
``webapp.plumbing.chat_bus``), so a reload or a dropped stream resumes from the last
line's id and loses nothing. Inside desk hours (``CHAT_DESK_HOURS`` / ``CHAT_DESK_DAYS``,
city time) a new chat waits for a call-taker; outside them it is a message, answered
later by e-mail (``REPLY_DOORS`` is where a text reply joins once the phone door exists).

The transcript is one contact of channel ``chat`` on the resident's record: an
information contact while it is only a conversation, and the request's own contact
once the call-taker turns it into a request.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from webapp.domain.errors import DomainError, NotAllowed, NotFound
from webapp.domain.intake import contacts
from webapp.domain.notifications.email import mail_queue
from webapp.domain.service_levels import CalendarError, parse_hours, parse_weekdays
from webapp.models import (
    Channel,
    Chat,
    ChatAuthor,
    ChatMessage,
    ChatStatus,
    Contact,
    ContactKind,
    Device,
    ServiceRequest,
    User,
    utcnow,
)
from webapp.plumbing import chat_bus
from webapp.plumbing.extensions import db

ALWAYS = "always"
OPEN_STATES = (ChatStatus.WAITING, ChatStatus.ACTIVE, ChatStatus.MESSAGE)
STARTED_FROM = ("help", "report")
TRANSCRIPT_LIMIT = contacts.MAX_NOTE
# Ways an out-of-hours message can be answered; "text" joins when the phone door exists.
REPLY_DOORS = ("email",)


@dataclass(frozen=True)
class Resident:
    """Who opened the chat: an account, a device, and what they chose to tell us."""

    user: User | None = None
    device: Device | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


def clock() -> datetime:
    """The time the chat rules run at: ``CHAT_CLOCK`` (a callable a test injects) or now."""
    injected = current_app.config.get("CHAT_CLOCK")
    return injected() if injected else utcnow()


def desk_open(now: datetime, config) -> bool:
    """Are call-takers at the chat desk at ``now`` (city time)?"""
    hours = (config.get("CHAT_DESK_HOURS") or config.get("CITY_BUSINESS_HOURS") or "").strip()
    if hours.lower() == ALWAYS:
        return True
    try:
        opens, closes = parse_hours(hours or "08:00-18:00")
        days = parse_weekdays(
            config.get("CHAT_DESK_DAYS")
            or config.get("CITY_BUSINESS_DAYS")
            or "mon,tue,wed,thu,fri"
        )
    except CalendarError:
        return False
    local = now.astimezone(ZoneInfo(config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"))
    return local.weekday() in days and opens <= local.time() < closes


def clean_body(text: str | None) -> str:
    """The line as the resident meant it: trimmed, control characters out, bounded.

    Emoji and right-to-left text are kept as they are (they are shown as text, never as
    markup); a line over ``CHAT_MAX_MESSAGE`` characters is refused, not cut.
    """
    limit = int(current_app.config.get("CHAT_MAX_MESSAGE", 2000))
    text = "".join(
        c for c in (text or "") if c in "\n\t" or unicodedata.category(c) != "Cc"
    ).strip()
    if not text:
        raise DomainError(_("Please write a message."), field="body")
    if len(text) > limit:
        raise DomainError(
            _("Please keep a message under %(limit)d characters.", limit=limit),
            field="body",
            status=413,
        )
    return text


def _tidy(value: str | None, size: int) -> str | None:
    return (value or "").strip()[:size] or None


def start(
    resident: Resident,
    body: str,
    *,
    now: datetime,
    locale: str = "en",
    started_from: str = "help",
    service_code: str | None = None,
) -> Chat:
    """Open a chat with its first line; committed and announced.

    Outside desk hours the chat is a message to be answered by e-mail, so an e-mail
    address is needed (the resident's account's when they are signed in).
    """
    body = clean_body(body)
    email = _tidy(resident.email, 254) or (resident.user.email if resident.user else None)
    if email and ("@" not in email or " " in email):
        raise DomainError(_("That e-mail address does not look right."), field="email")
    is_open = desk_open(now, current_app.config)
    if not is_open and not email:
        raise DomainError(
            _("The chat desk is closed now. Leave your e-mail address and we will answer there."),
            field="email",
        )
    chat = Chat(
        key=secrets.token_hex(16),
        status=ChatStatus.WAITING if is_open else ChatStatus.MESSAGE,
        locale=(locale or "en")[:10],
        started_from=started_from if started_from in STARTED_FROM else "help",
        service_code=_tidy(service_code, 64),
        user_id=resident.user.id if resident.user else None,
        device_id=resident.device.id if resident.device else None,
        resident_name=_tidy(resident.name, 120),
        resident_email=email and email.lower(),
        resident_phone=_tidy(resident.phone, 40),
        created_at=now,
    )
    db.session.add(chat)
    db.session.flush()
    contact = contacts.record(
        channel=Channel.CHAT,
        kind=ContactKind.INFORMATION,
        user=resident.user,
        device=resident.device,
        topic=_("Live chat") if is_open else _("Chat message"),
        caller_name=chat.resident_name,
        caller_email=chat.resident_email,
        caller_phone=chat.resident_phone,
    )
    chat.contact_id = contact.id
    _add(chat, ChatAuthor.RESIDENT, body, now=now)
    with force_locale(chat.locale):
        if is_open:
            _add(
                chat,
                ChatAuthor.SYSTEM,
                _("Thanks. A call-taker will be with you shortly."),
                now=now,
            )
        else:
            _add(
                chat,
                ChatAuthor.SYSTEM,
                _(
                    "The chat desk is closed now. We kept your message and will answer "
                    "by e-mail to %(email)s.",
                    email=chat.resident_email,
                ),
                now=now,
            )
    return _commit(chat)


def _add(chat: Chat, author: str, body: str, *, now: datetime, user: User | None = None):
    message = ChatMessage(
        chat=chat,
        author=author,
        author_user_id=user.id if user else None,
        body=body,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _commit(chat: Chat) -> Chat:
    """Keep the transcript contact in step, commit, then tell every server."""
    contact = db.session.get(Contact, chat.contact_id) if chat.contact_id else None
    if contact is not None:
        contact.note = transcript(chat)
    last = db.session.scalar(select(func.max(ChatMessage.id)).where(ChatMessage.chat_id == chat.id))
    db.session.commit()
    chat_bus.announce(chat.id, last or 0)
    return chat


def transcript(chat: Chat) -> str:
    """The chat as plain text for the record (the latest lines kept when it is long)."""
    names = {
        ChatAuthor.RESIDENT: _("Resident"),
        ChatAuthor.STAFF: _("Call-taker"),
        ChatAuthor.SYSTEM: _("Civic311"),
    }
    lines = [
        f"[{m.created_at:%H:%M}] {names.get(m.author, m.author)}: {m.body}"
        for m in lines_after(chat, 0)
    ]
    text = "\n".join(lines)
    return text if len(text) <= TRANSCRIPT_LIMIT else "…" + text[-(TRANSCRIPT_LIMIT - 1) :]


def lines_after(chat: Chat, after_id: int, limit: int = 500) -> list[ChatMessage]:
    """The chat's lines with an id above ``after_id``, oldest first."""
    return list(
        db.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.chat_id == chat.id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id)
            .limit(limit)
        )
    )


def read_after(session, chat_id: int, after_id: int) -> tuple[list[dict], bool]:
    """For a stream: the lines after ``after_id`` as dicts, and whether the chat is over.

    Read through ``session`` (the stream's own, short-lived one), so a stream never
    holds the request's session or a database connection while it waits.
    """
    chat = session.get(Chat, chat_id)
    if chat is None:
        return [], True
    found = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.chat_id == chat_id, ChatMessage.id > after_id)
        .order_by(ChatMessage.id)
        .limit(500)
    )
    return [as_dict(m, chat) for m in found], chat.status == ChatStatus.CLOSED


def by_key(key: str) -> Chat:
    """The resident's chat by its public key, or NotFound."""
    chat = db.session.scalars(select(Chat).where(Chat.key == (key or "")[:32])).first()
    if chat is None:
        raise NotFound(_("We could not find that chat."))
    return chat


def by_id(chat_id: int) -> Chat:
    """A chat by its number (staff), or NotFound."""
    chat = db.session.get(Chat, chat_id)
    if chat is None:
        raise NotFound(_("We could not find that chat."))
    return chat


def _refuse_closed(chat: Chat) -> None:
    if chat.status == ChatStatus.CLOSED:
        raise NotAllowed(_("This chat has ended. Start a new one to write again."))


def _check_flood(chat: Chat, now: datetime) -> None:
    """A resident writes at most ``CHAT_MESSAGES_PER_MINUTE`` lines a minute in one chat."""
    limit = int(current_app.config.get("CHAT_MESSAGES_PER_MINUTE", 20))
    recent = db.session.scalar(
        select(func.count(ChatMessage.id)).where(
            ChatMessage.chat_id == chat.id,
            ChatMessage.author == ChatAuthor.RESIDENT,
            ChatMessage.created_at > now - timedelta(minutes=1),
        )
    )
    if recent >= limit:
        raise DomainError(
            _("You are writing faster than we can read. Please wait a moment."), status=429
        )


def resident_writes(chat: Chat, body: str, *, now: datetime) -> ChatMessage:
    """The resident's next line (refused on a closed chat, or when flooding)."""
    _refuse_closed(chat)
    body = clean_body(body)
    _check_flood(chat, now)
    message = _add(chat, ChatAuthor.RESIDENT, body, now=now)
    _commit(chat)
    return message


def take(chat: Chat, handler: User, *, now: datetime) -> Chat:
    """A call-taker takes a waiting chat (or an out-of-hours message to answer)."""
    _refuse_closed(chat)
    if chat.handler_id not in (None, handler.id):
        raise NotAllowed(_("Another call-taker has already taken this chat."))
    if chat.handler_id == handler.id:
        return chat
    chat.handler_id = handler.id
    chat.taken_at = now
    if chat.status == ChatStatus.WAITING:
        chat.status = ChatStatus.ACTIVE
        with force_locale(chat.locale):
            _add(chat, ChatAuthor.SYSTEM, _("A call-taker has joined the chat."), now=now)
    return _commit(chat)


def staff_writes(chat: Chat, handler: User, body: str, *, now: datetime) -> ChatMessage:
    """The call-taker's answer; on an out-of-hours message it also goes out by e-mail."""
    _refuse_closed(chat)
    if chat.handler_id is None:
        take(chat, handler, now=now)
    elif chat.handler_id != handler.id:
        raise NotAllowed(_("Another call-taker has already taken this chat."))
    body = clean_body(body)
    message = _add(chat, ChatAuthor.STAFF, body, user=handler, now=now)
    if chat.status == ChatStatus.MESSAGE:
        _reply_by_other_door(chat, body)
    _commit(chat)
    return message


def _reply_by_other_door(chat: Chat, body: str) -> None:
    """An out-of-hours message is answered where the resident will see it: e-mail.

    The text door joins here (by ``chat.resident_phone``) once the city sends texts.
    """
    if "email" in REPLY_DOORS and chat.resident_email:
        city = current_app.config.get("CITY_NAME", "")
        with force_locale(chat.locale):
            mail_queue.queue_email(
                chat.resident_email,
                _("Your message to %(city)s 311", city=city),
                body,
                kind="chat_reply",
            )


def close(chat: Chat, *, now: datetime) -> Chat:
    """End the chat (either side); a closed chat takes no more lines."""
    if chat.status == ChatStatus.CLOSED:
        return chat
    chat.status = ChatStatus.CLOSED
    chat.closed_at = now
    with force_locale(chat.locale):
        _add(chat, ChatAuthor.SYSTEM, _("The chat has ended. Thank you."), now=now)
    return _commit(chat)


def check_can_become_request(chat: Chat) -> None:
    """Refuse before a request is logged from an ended chat, or a second one."""
    _refuse_closed(chat)
    if chat.request_id is not None:
        raise NotAllowed(_("This chat has already become a request."))


def request_made(chat: Chat, request: ServiceRequest, handler: User, *, now: datetime) -> Chat:
    """The call-taker turned the chat into ``request``: tell the resident its number.

    The request's own contact (channel chat) now carries the transcript, and the
    chat's information contact goes, so one chat counts once in the figures.
    """
    check_can_become_request(chat)
    chat.request_id = request.id
    if chat.handler_id is None:
        chat.handler_id = handler.id
        chat.taken_at = now
    request_contact = db.session.scalars(
        select(Contact).where(Contact.request_id == request.id).order_by(Contact.id)
    ).first()
    if request_contact is not None and request_contact.id != chat.contact_id:
        old = db.session.get(Contact, chat.contact_id) if chat.contact_id else None
        chat.contact_id = request_contact.id
        if old is not None:
            request_contact.device_id = request_contact.device_id or old.device_id
            request_contact.user_id = request_contact.user_id or old.user_id
            db.session.flush()
            db.session.delete(old)
    with force_locale(chat.locale):
        _add(
            chat,
            ChatAuthor.SYSTEM,
            _(
                "Your request number is %(number)s. You can follow it at /requests/%(number)s.",
                number=request.public_id,
            ),
            now=now,
        )
    return _commit(chat)


def desk_list(handler: User, limit: int = 50) -> list[Chat]:
    """Chats for the desk: waiting ones and messages first come, then this call-taker's."""
    return list(
        db.session.scalars(
            select(Chat)
            .where(
                or_(
                    Chat.status.in_((ChatStatus.WAITING, ChatStatus.MESSAGE)),
                    (Chat.status == ChatStatus.ACTIVE) & (Chat.handler_id == handler.id),
                )
            )
            .order_by(Chat.created_at, Chat.id)
            .limit(limit)
        )
    )


def resident_words(chat: Chat) -> str:
    """What the resident wrote, for the new request's description."""
    return "\n".join(m.body for m in lines_after(chat, 0) if m.author == ChatAuthor.RESIDENT)[
        : contacts.MAX_NOTE
    ]


def record_query(chat: Chat) -> str | None:
    """What the desk looks the resident's record up by: e-mail, phone, then name."""
    return chat.resident_email or chat.resident_phone or chat.resident_name


def as_dict(message: ChatMessage, chat: Chat) -> dict:
    """One line as the stream and the JSON API send it (the body is text, never markup)."""
    return {
        "id": message.id,
        "author": message.author,
        "body": message.body,
        "at": message.created_at.isoformat(),
        "status": chat.status,
        "request": chat.request.public_id if chat.request else None,
    }
