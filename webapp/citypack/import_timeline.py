"""The timeline of an imported request: the entries its status page and the staff record
show, written beside each batch the history import inserts.

Every imported request gets its opening entry ("Report received", at the time the old
system received it) and, when it is closed, its closing entry at the old system's
closing time with the old system's note. Both are marked as imported (``data.imported``
names the source) and have no actor: nobody here did them. They are written straight to
the table like the requests, so no notification or forwarding hears of them.

Each entry has an ``external_id`` made from the source, the old id and the entry's kind;
the column is unique, so a rerun, an overlapping window or a resumed import never writes
an entry twice, and rerunning an import with ``--restart`` gives requests imported
before entries existed their timeline.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from webapp.models import EventKind, RequestEvent, ServiceRequest, Status
from webapp.plumbing.extensions import db

PREFIX = "imported:"


def external_id(source: str, remote_id: str, what: str) -> str:
    """The entry's key: the same for the same old request and moment on every run."""
    digest = hashlib.sha256(f"{source}\x1f{remote_id}\x1f{what}".encode()).hexdigest()
    return PREFIX + digest[:48]


def _entries(request, source: str) -> list[dict]:
    """The entries one stored request should have (from what was stored, so the timeline
    agrees with the request)."""
    marked = {"imported": source}
    entries = [{
        "request_id": request.id,
        "kind": EventKind.CREATED,
        "actor_id": None,
        "from_status": None,
        "to_status": Status.SUBMITTED,
        "note": None,
        "public": True,
        "data": marked,
        "external_id": external_id(source, request.remote_id, "opened"),
        "created_at": request.received_at,
    }]
    if request.status == "closed":
        entries.append({
            "request_id": request.id,
            "kind": EventKind.STATUS_CHANGED,
            "actor_id": None,
            "from_status": None,
            "to_status": Status.CLOSED,
            "note": (request.resolution_note or "").strip() or None,
            "public": True,
            "data": {**marked, "resolution": request.resolution},
            "external_id": external_id(source, request.remote_id, "closed"),
            # Never before the report: old systems' clocks and time zones slip.
            "created_at": max(request.closed_at or request.updated_at, request.received_at),
        })
    return entries


def write_for(source: str, remote_ids: list[str], insert) -> int:
    """Write the missing entries of the requests ``remote_ids`` of ``source`` (in the
    caller's transaction); ``insert`` is the dialect's insert. Returns how many."""
    if not remote_ids:
        return 0
    table = ServiceRequest.__table__
    stored = db.session.execute(
        select(
            table.c.id,
            table.c.remote_id,
            table.c.status,
            table.c.resolution,
            table.c.resolution_note,
            table.c.received_at,
            table.c.closed_at,
            table.c.updated_at,
        ).where(table.c.import_source == source, table.c.remote_id.in_(remote_ids))
    ).all()
    rows = [entry for request in stored for entry in _entries(request, source)]
    if not rows:
        return 0
    events = RequestEvent.__table__
    statement = insert(events).on_conflict_do_nothing().returning(events.c.id)
    return len(db.session.execute(statement, rows).all())
