"""The request's timeline: every change to a request writes one entry and publishes the
event it stands for, so the channels hear of it without the request's life knowing them.

``record`` is the one writer of entries: the entry and the event it publishes are in the
caller's transaction, so a change that rolls back leaves neither. Also here, because every
writer of an entry needs them: the longest text a person may write about a request (its
description, a note, a comment) and the one way line endings are evened out.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.domain import events
from webapp.models import EventKind, RequestEvent, ServiceRequest, User, utcnow
from webapp.plumbing.extensions import db

MAX_DESCRIPTION = 4000


def normalise_text(text: str | None) -> str:
    """Trimmed text with every line ending as ``\n`` (clients send ``\r\n`` and ``\r``)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def record(
    request: ServiceRequest,
    kind: str,
    *,
    actor: User | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    public: bool = True,
    data: dict | None = None,
    announce: Callable[[RequestEvent], events.RequestChanged] | None = None,
) -> RequestEvent:
    """Write one timeline entry and publish it (``announce`` builds the event; by
    default the entry's kind chooses it), inside the caller's transaction."""
    event = RequestEvent(
        request=request,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=note,
        public=public,
        data=data or {},
        created_at=utcnow(),
    )
    db.session.add(event)
    request.updated_at = event.created_at
    db.session.flush()
    events.publish((announce or _announcement)(event))
    return event


_ANNOUNCED_AS: dict[str, type[events.RequestChanged]] = {
    EventKind.CREATED: events.Created,
    EventKind.ACKNOWLEDGED: events.Transitioned,
    EventKind.STATUS_CHANGED: events.Transitioned,
    EventKind.PUBLIC_NOTE: events.Noted,
    EventKind.PRIVATE_NOTE: events.Noted,
    EventKind.ASSIGNED: events.Assigned,
    EventKind.MERGED: events.Merged,
    EventKind.REOPENED: events.Reopened,
}


def _announcement(entry: RequestEvent) -> events.RequestChanged:
    """The event an entry of this kind publishes when its writer names none."""
    return _ANNOUNCED_AS.get(entry.kind, events.RequestChanged)(entry)
