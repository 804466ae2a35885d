"""Personal data kept only as long as it is needed.

A resident's name, e-mail address and phone number are needed while the city works on
their request and for a while after (a reopening, a follow-up call). After
``CONTACT_RETENTION_MONTHS`` past closure they are removed; the request itself (what,
where, when, how it ended) stays, as it is the city's public record. Photos carry no
personal metadata to begin with: EXIF (GPS, camera, time) is stripped when they are
stored.

What is removed, for a closed request past the retention time:

- the request's contact name, e-mail and phone;
- the caller details of the contacts (desk calls, e-mails) that made or joined it;
- the address on its delivered or abandoned e-mail messages (the delivery log keeps
  what was sent and when, not to whom);
- the sender and text of e-mails read from the city's mailbox before the cut-off;
- live chats ended before the cut-off: the resident's name, e-mail and phone and the
  text of every line (the chat's times, status and request stay);
- text messages before the cut-off: their words, replies and number, and the numbers
  that have been silent since then — except a number that said STOP, which is kept
  (only its number and when it stopped) so that it is never texted again;
- the caller details and transcripts of chat and text contacts from before the cut-off.

A resident may also remove their own contact details at once, from *My requests*:
every request they made loses its name, e-mail and phone, e-mail not yet sent about
them is cancelled, and this device forgets the addresses it proved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update

from webapp.models import (
    Channel,
    Chat,
    ChatMessage,
    ChatStatus,
    Contact,
    Device,
    DeviceEmail,
    InboundMail,
    NotificationOutbox,
    ServiceRequest,
    Status,
    TextMessage,
    TextNumber,
    User,
)
from webapp.plumbing.extensions import db

DONE_STATES = ("sent", "dead", "failed")
WAITING_STATES = ("pending", "sending")
REMOVED_BY_RESIDENT = "not sent: the resident removed their contact details"
DAYS_PER_MONTH = 30.44
# A contact's caller details, removed.
CALLER_GONE = {"caller_name": None, "caller_email": None, "caller_phone": None,
               "caller_address": None}


@dataclass(frozen=True)
class Purged:
    """How many records lost personal data (or would, in a dry run)."""

    requests: int = 0
    contacts: int = 0
    messages: int = 0
    inbound_mail: int = 0
    cancelled_messages: int = 0
    device_addresses: int = 0
    chats: int = 0
    text_messages: int = 0
    text_numbers: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by kind, for a report."""
        return asdict(self)


def cutoff(now: datetime, months: int) -> datetime | None:
    """The moment before which closed requests lose their contact details (None: never)."""
    if months <= 0:
        return None
    return now - timedelta(days=round(months * DAYS_PER_MONTH))


def _has_contact():
    return or_(
        ServiceRequest.contact_name.is_not(None),
        ServiceRequest.contact_email.is_not(None),
        ServiceRequest.contact_phone.is_not(None),
    )


def _contact_has_caller():
    return or_(
        Contact.caller_name.is_not(None),
        Contact.caller_email.is_not(None),
        Contact.caller_phone.is_not(None),
        Contact.caller_address.is_not(None),
    )


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def purge_expired(now: datetime, months: int, dry_run: bool = False) -> Purged:
    """Remove contact details of requests closed before the retention cut-off.

    With ``dry_run`` nothing changes: the counts say what would be removed. Safe to
    run again (what is already removed is not counted twice). The caller commits.
    """
    before = cutoff(now, months)
    if before is None:
        return Purged()
    expired = select(ServiceRequest.id).where(
        ServiceRequest.detailed_status == Status.CLOSED, ServiceRequest.closed_at < before
    )
    requests = select(ServiceRequest.id).where(ServiceRequest.id.in_(expired), _has_contact())
    contacts = select(Contact.id).where(
        Contact.request_id.in_(expired), _contact_has_caller()
    )
    messages = select(NotificationOutbox.id).where(
        NotificationOutbox.request_id.in_(expired),
        NotificationOutbox.state.in_(DONE_STATES),
        NotificationOutbox.email_to.is_not(None),
    )
    mail = select(InboundMail.id).where(
        InboundMail.received_at < before,
        or_(InboundMail.sender != "", InboundMail.body != ""),
    )
    conversations = _conversations_before(before)
    found = Purged(
        requests=_count(requests),
        contacts=_count(contacts) + _count(conversations["contacts"]),
        messages=_count(messages),
        inbound_mail=_count(mail),
        chats=_count(conversations["chats"]),
        text_messages=_count(conversations["text_messages"]),
        text_numbers=_count(conversations["text_numbers"]),
    )
    if dry_run:
        return found
    _forget_conversations(conversations)
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id.in_(requests))
        .values(contact_name=None, contact_email=None, contact_phone=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Contact)
        .where(Contact.id.in_(contacts))
        .values(**CALLER_GONE)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(NotificationOutbox)
        .where(NotificationOutbox.id.in_(messages))
        .values(email_to=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(InboundMail)
        .where(InboundMail.id.in_(mail))
        .values(sender="", body="", subject="")
        .execution_options(synchronize_session=False)
    )
    return found


def _conversations_before(before: datetime) -> dict:
    """The chats, texts and their contacts that still hold personal data from before
    ``before`` (selects of ids, counted for a dry run and then emptied)."""
    return {
        "chats": select(Chat.id).where(
            Chat.closed_at < before,
            or_(
                Chat.resident_name.is_not(None),
                Chat.resident_email.is_not(None),
                Chat.resident_phone.is_not(None),
                Chat.id.in_(select(ChatMessage.chat_id).where(ChatMessage.body != "")),
            ),
        ),
        "text_messages": select(TextMessage.id).where(
            TextMessage.created_at < before,
            or_(TextMessage.phone != "", TextMessage.body != "", TextMessage.reply.is_not(None)),
        ),
        # A stopped number stays: it is the proof that it must not be texted.
        "text_numbers": select(TextNumber.id).where(
            TextNumber.stopped.is_(False),
            func.coalesce(TextNumber.last_message_at, TextNumber.created_at) < before,
        ),
        "contacts": select(Contact.id).where(
            Contact.channel.in_((Channel.CHAT, Channel.TEXT)),
            Contact.created_at < before,
            or_(_contact_has_caller(), Contact.note.is_not(None)),
        ),
    }


def _empty_chats(chats: list[int]) -> None:
    """Empty these chats: every message's words, and the resident's name, e-mail and phone."""
    db.session.execute(
        update(ChatMessage)
        .where(ChatMessage.chat_id.in_(chats))
        .values(body="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Chat)
        .where(Chat.id.in_(chats))
        .values(resident_name=None, resident_email=None, resident_phone=None)
        .execution_options(synchronize_session=False)
    )


def _forget_conversations(conversations: dict) -> None:
    """Empty what ``_conversations_before`` found."""
    _empty_chats(db.session.scalars(conversations["chats"]).all())
    db.session.execute(
        update(TextMessage)
        .where(TextMessage.id.in_(conversations["text_messages"]))
        .values(phone="", body="", reply=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(TextNumber)
        .where(TextNumber.id.in_(conversations["text_numbers"]))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Contact)
        .where(Contact.id.in_(conversations["contacts"]))
        .values(**CALLER_GONE, note=None)
        .execution_options(synchronize_session=False)
    )


def forget_my_contact_details(user: User | None, device: Device | None) -> Purged:
    """The resident removes their name, e-mail and phone from every request they made,
    and the words of their ended chats.

    E-mail still waiting to be sent about those requests is cancelled (the delivery log
    says why), delivered messages forget the address, and this device forgets the
    addresses it proved. Status pages and push notifications keep working: they need
    no contact details. The caller commits.
    """
    from webapp.domain.lifecycle.requests import owned_by

    mine = owned_by(user, device)
    if mine is None:
        return Purged()
    own = db.session.execute(
        select(ServiceRequest.id, ServiceRequest.contact_email).where(mine)
    ).all()
    own_ids = [row.id for row in own]
    with_contact = db.session.scalars(
        select(ServiceRequest.id).where(ServiceRequest.id.in_(own_ids), _has_contact())
    ).all()
    # Only the resident's own addresses: a neighbour following by e-mail keeps theirs.
    addresses = {row.contact_email.lower() for row in own if row.contact_email}
    if device is not None:
        addresses |= set(
            db.session.scalars(
                select(DeviceEmail.address).where(DeviceEmail.device_id == device.id)
            )
        )
    if user is not None and user.email:
        addresses.add(user.email.lower())
    email_rows = and_(
        NotificationOutbox.request_id.in_(own_ids),
        func.lower(NotificationOutbox.email_to).in_(addresses),
    )
    cancelled = db.session.execute(
        update(NotificationOutbox)
        .where(email_rows, NotificationOutbox.state.in_(WAITING_STATES))
        .values(state="dead", last_error=REMOVED_BY_RESIDENT, email_to=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    forgotten = db.session.execute(
        update(NotificationOutbox)
        .where(email_rows)
        .values(email_to=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    contacts = db.session.execute(
        update(Contact)
        .where(Contact.request_id.in_(own_ids), _contact_has_caller())
        .values(**CALLER_GONE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id.in_(with_contact))
        .values(contact_name=None, contact_email=None, contact_phone=None)
        .execution_options(synchronize_session=False)
    )
    proven = 0
    if device is not None:
        proven = db.session.execute(
            delete(DeviceEmail).where(DeviceEmail.device_id == device.id)
        ).rowcount
    chats, chat_contacts = _forget_my_chats(user, device)
    return Purged(
        requests=len(with_contact),
        contacts=contacts + chat_contacts,
        messages=forgotten,
        cancelled_messages=cancelled,
        device_addresses=proven,
        chats=chats,
    )


def _forget_my_chats(user: User | None, device: Device | None) -> tuple[int, int]:
    """Empty the resident's ended chats and their transcripts on the desk's record.

    A chat still waiting, live or left as a message for the desk goes on as it is: the
    call-taker needs it to answer. Returns (chats emptied, transcripts emptied).
    """
    owners = []
    if user is not None:
        owners.append(Chat.user_id == user.id)
    if device is not None:
        owners.append(Chat.device_id == device.id)
    if not owners:
        return 0, 0
    ended = db.session.execute(
        select(Chat.id, Chat.contact_id).where(or_(*owners), Chat.status == ChatStatus.CLOSED)
    ).all()
    if not ended:
        return 0, 0
    _empty_chats([row.id for row in ended])
    transcripts = [row.contact_id for row in ended if row.contact_id is not None]
    emptied = db.session.execute(
        update(Contact)
        .where(Contact.id.in_(transcripts))
        .values(**CALLER_GONE, note=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return len(ended), emptied
