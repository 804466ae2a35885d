"""Which requests go to a city CRM, and their rows, written in the caller's transaction.

A request whose service (else department) has an active ``ForwardTarget`` gets a
``Forwarding`` row in the same transaction that stores it, so nothing is lost between
the two systems; a public note or reopening made here on a forwarded request gets a
``ForwardedUpdate``. Staff read both here and send a stopped forwarding again.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.errors import DomainError
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    RequestEvent,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db


def target_for(request: ServiceRequest) -> ForwardTarget | None:
    """The active target of the request's service, else of its department."""
    by_service = db.session.scalars(
        select(ForwardTarget).where(
            ForwardTarget.service_id == request.service_id, ForwardTarget.active.is_(True)
        )
    ).first()
    if by_service is not None or request.department_id is None:
        return by_service
    return db.session.scalars(
        select(ForwardTarget).where(
            ForwardTarget.department_id == request.department_id,
            ForwardTarget.active.is_(True),
        )
    ).first()


def queue(request: ServiceRequest) -> Forwarding | None:
    """Queue the request for its CRM, inside the caller's transaction (None if none)."""
    target = target_for(request)
    if target is None:
        return None
    row = Forwarding(
        request=request,
        target=target,
        idempotency_key=str(uuid.uuid4()),
        state=ForwardState.PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def queue_once(request: ServiceRequest) -> Forwarding | None:
    """Once the request's department or service changed, a request that now belongs to
    a city CRM is queued for it, unless it already was (None when nothing was queued)."""
    db.session.flush()
    if for_request(request) is not None:
        return None
    return queue(request)


PASSED_ON = (EventKind.PUBLIC_NOTE, EventKind.REOPENED)


def queue_update(event: RequestEvent) -> ForwardedUpdate | None:
    """Queue a public note or reopening made here for the CRM of a forwarded request
    (not those that came from the CRM), inside the caller's transaction."""
    if not event.public or event.kind not in PASSED_ON:
        return None
    if (event.data or {}).get("source") == "crm":
        return None
    row = for_request(event.request)
    if row is None:
        return None
    item = ForwardedUpdate(event=event, forwarding=row, next_attempt_at=utcnow())
    db.session.add(item)
    return item


def for_request(request: ServiceRequest) -> Forwarding | None:
    """The request's forwarding, for staff views."""
    return db.session.scalars(select(Forwarding).where(Forwarding.request_id == request.id)).first()


def retry(row: Forwarding) -> None:
    """Staff send a rejected or failed request again (a fresh, due attempt)."""
    if row.state == ForwardState.SENT:
        raise DomainError(_("This request already reached the city's CRM."), status=409)
    row.state = ForwardState.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.claimed_until = None


def updates_of(row: Forwarding) -> list[ForwardedUpdate]:
    """What residents said on a forwarded request and how far each got, for staff."""
    return list(
        db.session.scalars(
            select(ForwardedUpdate)
            .where(ForwardedUpdate.forwarding_id == row.id)
            .order_by(ForwardedUpdate.id)
        )
    )
