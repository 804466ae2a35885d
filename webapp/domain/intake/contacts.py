"""Contacts: every interaction with a resident, whichever door they came through.

A request created from any channel records a contact in the same transaction; so do
an information-only call, a walk-in, an e-mail question, and an answer that resolved
a resident's question on their own ("This answered my question"). A resident's record
is their requests and contacts together, found by phone, e-mail, name or address.

A caller is a person: the phone numbers, e-mail addresses and account known to be
theirs. Two records belong to the same person only when they share one of those; a
shared name or address never merges two people, so a name search lists each person
as a candidate with only their own details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from webapp.domain.errors import DomainError
from webapp.models import (
    Answer,
    Channel,
    Contact,
    ContactKind,
    Device,
    Service,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

DESK_CHANNELS = (Channel.PHONE, Channel.WALK_IN)
MAX_NOTE = 4000
LOOKUP_LIMIT = 50


def normalise_phone(value: str | None) -> str | None:
    """Digits only (with a leading + kept), so "(423) 555-0199" finds "+1 423 555 0199"."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if not digits:
        return None
    return digits[-10:] if len(digits) >= 10 else digits


def record_request(request: ServiceRequest, *, handler: User | None = None) -> Contact:
    """The contact that creating ``request`` was (called inside the same transaction)."""
    contact = Contact(
        channel=request.channel,
        kind=ContactKind.REQUEST,
        service_id=request.service_id,
        request=request,
        user_id=request.requester_id,
        device_id=request.device_id,
        handler_id=handler.id if handler else request.logged_by_id,
        caller_name=request.contact_name,
        caller_email=(request.contact_email or None) and request.contact_email.lower(),
        caller_phone=request.contact_phone,
        caller_address=request.address,
        created_at=request.received_at or utcnow(),
    )
    db.session.add(contact)
    return contact


def record(
    *,
    channel: str,
    kind: str,
    handler: User | None = None,
    user: User | None = None,
    device: Device | None = None,
    service: Service | None = None,
    answer: Answer | None = None,
    request: ServiceRequest | None = None,
    topic: str | None = None,
    caller_name: str | None = None,
    caller_email: str | None = None,
    caller_phone: str | None = None,
    caller_address: str | None = None,
    note: str | None = None,
) -> Contact:
    """Store one contact; refuse an unknown channel or kind and an over-long note."""
    if channel not in set(Channel):
        raise DomainError(_("That is not a channel we know."), field="channel")
    if kind not in set(ContactKind):
        raise DomainError(_("That is not a kind of contact we know."), field="kind")
    if note and len(note) > MAX_NOTE:
        raise DomainError(_("The note is too long."), field="note")
    contact = Contact(
        channel=channel,
        kind=kind,
        handler_id=handler.id if handler else None,
        user_id=user.id if user else None,
        device_id=device.id if device else None,
        service_id=service.id if service else (request.service_id if request else None),
        answer_id=answer.id if answer else None,
        request_id=request.id if request else None,
        topic=(topic or "").strip()[:80] or None,
        caller_name=(caller_name or "").strip()[:120] or None,
        caller_email=(caller_email or "").strip().lower()[:254] or None,
        caller_phone=(caller_phone or "").strip()[:40] or None,
        caller_address=(caller_address or "").strip()[:255] or None,
        note=(note or "").strip() or None,
        created_at=utcnow(),
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def record_information_call(
    handler: User,
    *,
    channel: str = Channel.PHONE,
    answer: Answer | None = None,
    topic: str | None = None,
    note: str | None = None,
    **caller: str | None,
) -> Contact:
    """A call or visit that needed only an answer: a contact, not a request."""
    if channel not in DESK_CHANNELS:
        raise DomainError(_("A call-taker logs phone calls and walk-ins."), field="channel")
    if answer is None and not (topic or "").strip() and not (note or "").strip():
        raise DomainError(
            _("Please say what the caller asked about: an answer, a topic or a note."),
            field="topic",
        )
    return record(
        channel=channel,
        kind=ContactKind.INFORMATION,
        handler=handler,
        answer=answer,
        service=answer.services[0] if answer and answer.services else None,
        topic=topic or (answer.title if answer else None),
        note=note,
        **caller,
    )


def record_self_service(
    answer: Answer,
    *,
    channel: str = Channel.WEB,
    user: User | None = None,
    device: Device | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> Contact | None:
    """A resident read an answer and said it answered their question.

    Each person (an account, or a device the browser kept) counts once per answer per
    day: the figure is public (``contacts.csv``, ``/stats``), so a script must not be
    able to inflate it. Without either the call is refused (401), like "me too".
    Returns the new contact, or None when this person already counted today.
    """
    if user is None and device is None:
        raise DomainError(
            _("Sign in or use this app on your device to say an answer helped."), status=401
        )
    if channel not in (Channel.PWA, Channel.WEB):
        channel = Channel.WEB
    since = (now or utcnow()) - timedelta(days=1)
    who = Contact.user_id == user.id if user is not None else Contact.device_id == device.id
    already = db.session.scalar(
        select(Contact.id)
        .where(
            Contact.kind == ContactKind.SELF_SERVICE,
            Contact.answer_id == answer.id,
            Contact.created_at >= since,
            who,
        )
        .limit(1)
    )
    if already is not None:
        return None
    return record(
        channel=channel,
        kind=ContactKind.SELF_SERVICE,
        user=user,
        device=device,
        answer=answer,
        service=service or (answer.services[0] if answer.services else None),
        topic=answer.title,
    )


@dataclass
class RecordItem:
    """One line of a resident's record: a request or a contact."""

    when: datetime
    channel: str
    kind: str
    request: ServiceRequest | None = None
    contact: Contact | None = None

    @property
    def is_open(self) -> bool:
        """Open requests come first on the record."""
        return self.request is not None and self.request.detailed_status != Status.CLOSED


@dataclass
class CallerRecord:
    """Everything the city has from one caller, open requests first.

    When the search matched several people, ``candidates`` holds one record per person
    (to choose from) and this record itself has no details or items.
    """

    query: str
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    items: list[RecordItem] = field(default_factory=list)
    candidates: list[CallerRecord] = field(default_factory=list)

    @property
    def identity(self) -> str | None:
        """What finds exactly this person again: their phone, else their e-mail."""
        return (self.phones or self.emails or [None])[0]


def _identity_keys(item: RecordItem) -> set[str]:
    """What ties a record to a person: a phone, an e-mail address or an account."""
    keys: set[str] = set()
    source = item.request if item.request is not None else item.contact
    if item.request is not None:
        email, phone = source.contact_email, source.contact_phone
        user_id = source.requester_id
    else:
        email, phone, user_id = source.caller_email, source.caller_phone, source.user_id
    if email and email.strip():
        keys.add("e:" + email.strip().lower())
    if normalise_phone(phone):
        keys.add("p:" + normalise_phone(phone))
    if user_id is not None:
        keys.add(f"u:{user_id}")
    return keys


def people(items: list[RecordItem]) -> list[list[RecordItem]]:
    """Group records into people: records sharing a phone, an e-mail or an account are
    one person (also through a chain: a phone on one, that phone and an e-mail on
    another, that e-mail on a third). A record with none of them stands alone: a name
    is not enough to say two callers are the same person. Groups keep the items' order."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, item in enumerate(items):
        for key in _identity_keys(item):
            if key in owner:
                parent[root(index)] = root(owner[key])
            else:
                owner[key] = index
    groups: dict[int, list[RecordItem]] = {}
    for index, item in enumerate(items):
        groups.setdefault(root(index), []).append(item)
    return list(groups.values())


def _details(record: CallerRecord, items: list[RecordItem]) -> CallerRecord:
    """Fill ``record`` with the names, e-mails, phones and addresses of ``items`` only."""

    def _add(values: list[str], value: str | None):
        if value and value not in values:
            values.append(value)

    for item in items:
        if item.request is not None:
            r = item.request
            _add(record.names, r.contact_name or (r.requester.display_name if r.requester else None))
            _add(record.emails, r.contact_email or (r.requester.email if r.requester else None))
            _add(record.phones, r.contact_phone)
            _add(record.addresses, r.address)
        else:
            c = item.contact
            _add(record.names, c.caller_name)
            _add(record.emails, c.caller_email)
            _add(record.phones, c.caller_phone)
            _add(record.addresses, c.caller_address)
    record.items = items
    return record


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def lookup(query: str, limit: int = LOOKUP_LIMIT) -> CallerRecord:
    """Find a caller by phone, e-mail, name or address across requests and contacts.

    Requests match on their private contact fields, address or requester account;
    contacts on their caller fields. Each request appears once (its creation contact
    is folded into it); open requests come first, then the newest. The matches are
    grouped into people (``people``): one person fills the record itself; several fill
    ``candidates`` instead, so the desk asks which one is calling and never shows one
    person's phone or e-mail under another's name.
    """
    query = (query or "").strip()
    found = CallerRecord(query=query)
    if len(query) < 3:
        return found
    phone = normalise_phone(query) if re.fullmatch(r"[\d\s()+.\-]{7,}", query) else None
    pattern = _like(query)
    if phone:
        digits = func.replace(
            func.replace(
                func.replace(
                    func.replace(func.replace(ServiceRequest.contact_phone, " ", ""), "-", ""),
                    "(",
                    "",
                ),
                ")",
                "",
            ),
            "+",
            "",
        )
        c_digits = func.replace(
            func.replace(
                func.replace(
                    func.replace(func.replace(Contact.caller_phone, " ", ""), "-", ""), "(", ""
                ),
                ")",
                "",
            ),
            "+",
            "",
        )
        req_match = digits.like(f"%{phone}")
        contact_match = c_digits.like(f"%{phone}")
    else:
        users = select(User.id).where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
        req_match = or_(
            func.lower(ServiceRequest.contact_email).like(pattern, escape="\\"),
            func.lower(ServiceRequest.contact_name).like(pattern, escape="\\"),
            func.lower(ServiceRequest.address).like(pattern, escape="\\"),
            ServiceRequest.requester_id.in_(users),
        )
        contact_match = or_(
            func.lower(Contact.caller_email).like(pattern, escape="\\"),
            func.lower(Contact.caller_name).like(pattern, escape="\\"),
            func.lower(Contact.caller_address).like(pattern, escape="\\"),
            Contact.user_id.in_(users),
        )
    requests = db.session.scalars(
        select(ServiceRequest)
        .where(req_match)
        .order_by(ServiceRequest.received_at.desc())
        .limit(limit)
    ).all()
    contacts = db.session.scalars(
        select(Contact).where(contact_match).order_by(Contact.created_at.desc()).limit(limit)
    ).all()
    seen_requests = {r.id for r in requests}
    for contact in contacts:
        if contact.request is not None and contact.request_id not in seen_requests:
            requests.append(contact.request)
            seen_requests.add(contact.request_id)
    items = [RecordItem(r.received_at, r.channel, "request", request=r) for r in requests]
    items += [
        RecordItem(c.created_at, c.channel, c.kind, contact=c)
        for c in contacts
        if c.kind != ContactKind.REQUEST
    ]
    items.sort(key=lambda i: (not i.is_open, -i.when.timestamp()))
    groups = people(items[:limit])
    if len(groups) == 1:
        return _details(found, groups[0])
    # Several people match (a name, a street): each is a candidate with only their own
    # details; the one with the newest record first.
    found.candidates = [_details(CallerRecord(query=query), group) for group in groups]
    return found
