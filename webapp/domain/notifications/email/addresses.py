"""What we know of an e-mail address: bounced, unsubscribed (from everything or from one
request), and so whether it may be mailed at all.

A permanent refusal by a mail server marks the address bounced; the one-click
unsubscribe link stops all mail or one request's. Every queueing and every send asks
here first, so a bounced or unsubscribed address gets nothing more.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.models import EmailAddress, EmailOptOut, NotificationOutbox, ServiceRequest, utcnow
from webapp.plumbing.extensions import db


def address_key(address: str) -> str:
    """How an address is stored and compared: trimmed, lower case."""
    return address.strip().lower()


def address_record(address: str, *, create: bool = False) -> EmailAddress | None:
    """What we know about ``address`` (created on demand)."""
    record = db.session.scalars(
        select(EmailAddress).where(EmailAddress.address == address_key(address))
    ).first()
    if record is None and create:
        record = EmailAddress(address=address_key(address))
        db.session.add(record)
        db.session.flush()
    return record


def blocked_reason(address: str, request_id: int | None = None) -> str | None:
    """Why ``address`` must not be mailed (bounced, unsubscribed), or None."""
    record = address_record(address)
    if record is not None and record.bounced_at is not None:
        return f"address bounced permanently: {record.bounce_reason or 'no reason given'}"
    if record is not None and record.unsubscribed_at is not None:
        return "the resident asked for no more e-mail"
    if request_id is not None:
        opted_out = db.session.scalar(
            select(EmailOptOut.id).where(
                EmailOptOut.address == address_key(address), EmailOptOut.request_id == request_id
            )
        )
        if opted_out is not None:
            return "the resident unsubscribed from this request"
    return None


def mark_bounced(address: str, reason: str) -> None:
    """Record a permanent failure: the address gets no more mail; staff see why."""
    record = address_record(address, create=True)
    record.bounced_at = utcnow()
    record.bounce_reason = reason[:500]


def unsubscribe(address: str, request_id: int | None = None) -> None:
    """Stop mail about one request (or all mail when ``request_id`` is None). Doing it
    twice is fine."""
    if request_id is None:
        record = address_record(address, create=True)
        record.unsubscribed_at = record.unsubscribed_at or utcnow()
        return
    exists = db.session.scalar(
        select(EmailOptOut.id).where(
            EmailOptOut.address == address_key(address), EmailOptOut.request_id == request_id
        )
    )
    if exists is None:
        db.session.add(EmailOptOut(address=address_key(address), request_id=request_id))
        db.session.flush()


def blocked_reasons(rows: list[NotificationOutbox]) -> dict[tuple[str, int | None], str]:
    """Why each (address, request) of a batch must not be mailed, in two queries."""
    addresses = {row.email_to.lower() for row in rows}
    records = {
        record.address: record
        for record in db.session.scalars(
            select(EmailAddress).where(EmailAddress.address.in_(addresses))
        )
    }
    opted_out = {
        (address, request_id)
        for address, request_id in db.session.execute(
            select(EmailOptOut.address, EmailOptOut.request_id).where(
                EmailOptOut.address.in_(addresses)
            )
        )
    }
    reasons = {}
    for row in rows:
        key = (row.email_to.lower(), row.request_id)
        record = records.get(key[0])
        if record is not None and record.bounced_at is not None:
            reasons[key] = (
                f"address bounced permanently: {record.bounce_reason or 'no reason given'}"
            )
        elif record is not None and record.unsubscribed_at is not None:
            reasons[key] = "the resident asked for no more e-mail"
        elif key in opted_out:
            reasons[key] = "the resident unsubscribed from this request"
    return reasons


def bounced_address(request: ServiceRequest) -> EmailAddress | None:
    """The request's contact address when it bounced permanently (staff see why)."""
    if not request.contact_email:
        return None
    record = address_record(request.contact_email)
    return record if record is not None and record.bounced_at is not None else None
