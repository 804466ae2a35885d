"""Pulling a city CRM's updates back onto our timelines.

``GET servicerequestupdates.xml`` since the last pull, with a little overlap, page after
page until the window is read (the window moves only as far as was read); a CRM without
that extension is asked ``GET requests.xml`` for the forwarded ids in batches. Each
update is applied by FixMyStreet's acceptance rules (``open311/updates.py``), compared
with the CRM's own time last seen for that request, never with our clock; the CRM's
echo of what we passed on is not pulled back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from xml.etree import ElementTree

from flask import current_app
from sqlalchemy import select

from webapp.domain.open311 import open311_statuses, updates
from webapp.domain.open311.forwarding.crm_calls import (
    Refused,
    Unreachable,
    call,
    endpoint,
    parse_xml,
    remote_status,
)
from webapp.models import (
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db

PULL_OVERLAP = timedelta(minutes=5)

FIRST_PULL = timedelta(days=7)

ID_BATCH = 50

MAX_PAGES = 200


def _echoes(row: Forwarding) -> set[str]:
    """The CRM's ids of the updates we passed on for this request (not to pull back)."""
    return set(
        db.session.scalars(
            select(ForwardedUpdate.external_id).where(
                ForwardedUpdate.forwarding_id == row.id,
                ForwardedUpdate.external_id.is_not(None),
            )
        )
    )


def _updates_from(root: ElementTree.Element) -> list[updates.RemoteUpdate]:
    found = []
    for item in root.iter("request_update"):
        found.append(
            updates.RemoteUpdate(
                update_id=item.findtext("update_id"),
                service_request_id=item.findtext("service_request_id"),
                status=item.findtext("status"),
                updated_datetime=item.findtext("updated_datetime"),
                description=item.findtext("description"),
                external_status_code=item.findtext("external_status_code"),
                media_url=item.findtext("media_url"),
            )
        )
    return found


def _referred_to(target: ForwardTarget, external_id: str) -> str:
    """Where the CRM referred a request, when it says so (``referred_to`` among its
    extended attributes); empty when it does not."""
    try:
        remote = remote_status(target, external_id)
    except (Unreachable, Refused):
        return ""
    if remote is None:
        return ""
    return (remote.findtext("extended_attributes/referred_to") or "").strip()[:120]


def _apply(target: ForwardTarget, found: list[updates.RemoteUpdate], window) -> int:
    applied = 0
    for update_item in found:
        row = db.session.scalars(
            select(Forwarding).where(
                Forwarding.target_id == target.id,
                Forwarding.external_id == (update_item.service_request_id or "").strip(),
            )
        ).first()
        if row is None or (update_item.update_id or "").strip() in _echoes(row):
            continue
        wanted = open311_statuses.incoming(update_item.status)
        referred = ""
        if wanted is not None and wanted.resolution == "referred":
            referred = _referred_to(target, row.external_id)
        event = updates.apply_remote_update(
            row.request,
            update_item,
            source_key=f"fwd{target.id}",
            window=window,
            referred_to=referred,
            remote_since=row.remote_updated_at,
        )
        when = updates.parse_time(update_item.updated_datetime)
        if event is not None and when is not None:
            if row.remote_updated_at is None or when > row.remote_updated_at:
                row.remote_updated_at = when
            applied += 1
        db.session.commit()
    return applied


def _fallback_updates(target: ForwardTarget, timeout: float) -> list[updates.RemoteUpdate]:
    """Status sync from ``GET requests`` when the CRM has no ``servicerequestupdates``:
    the forwarded open requests are asked for in batches of ids, and each whose status
    or notes there changed since we last looked becomes one update."""
    rows = db.session.scalars(
        select(Forwarding)
        .join(ServiceRequest, ServiceRequest.id == Forwarding.request_id)
        .where(
            Forwarding.target_id == target.id,
            Forwarding.state == ForwardState.SENT,
            ServiceRequest.status == "open",
        )
        .order_by(Forwarding.id)
    ).all()
    found: list[updates.RemoteUpdate] = []
    for start in range(0, len(rows), ID_BATCH):
        batch = rows[start : start + ID_BATCH]
        params = {"service_request_id": ",".join(r.external_id for r in batch)}
        if target.jurisdiction_id:
            params["jurisdiction_id"] = target.jurisdiction_id
        response = call("GET", endpoint(target, "requests.xml"), timeout=timeout, params=params)
        for item in parse_xml(response.content).iter("request"):
            status = (item.findtext("status") or "").strip()
            notes = (item.findtext("status_notes") or "").strip()
            if not status or (status.lower() == "open" and not notes):
                continue
            when = item.findtext("updated_datetime") or ""
            said = hashlib.sha256(notes.encode()).hexdigest()[:16]
            found.append(
                updates.RemoteUpdate(
                    update_id=f"status:{item.findtext('service_request_id')}:{status}:{said}",
                    service_request_id=item.findtext("service_request_id"),
                    status=status,
                    updated_datetime=when,
                    description=notes,
                )
            )
    return found


def _feed_page(target: ForwardTarget, start: datetime, end: datetime, page: int, timeout: float):
    params = {
        "start_date": start.isoformat(timespec="seconds"),
        "end_date": end.isoformat(timespec="seconds"),
        "api_key": target.api_key or "",
    }
    if page > 1:
        params["page"] = str(page)
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    response = call(
        "GET", endpoint(target, "servicerequestupdates.xml"), timeout=timeout, params=params
    )
    return _updates_from(parse_xml(response.content))


def _pull_feed(target: ForwardTarget, start: datetime, end: datetime, timeout: float) -> int:
    """Read the CRM's updates feed from ``start`` to ``end`` page after page and apply
    them; moves ``updates_pulled_until`` only as far as was read.

    A CRM's feed is capped per answer (oldest first) and may not know ``page``, so
    each next question starts at the newest time read; a full answer of updates all
    read already asks the next ``page``. The feed is read when an answer brings
    nothing new and is shorter than the longest one seen."""
    cursor, page, largest, applied = start, 1, 0, 0
    seen: set[str] = set()
    for _round in range(MAX_PAGES):
        try:
            found = _feed_page(target, cursor, end, page, timeout)
        except (Unreachable, Refused):
            if cursor > start:
                target.updates_pulled_until = cursor
                db.session.commit()
            raise
        largest = max(largest, len(found))
        fresh = [u for u in found if (u.update_id or "").strip() not in seen]
        seen.update((u.update_id or "").strip() for u in found)
        applied += _apply(target, fresh, (start, end))
        if not found or len(found) < largest or (page > 1 and not fresh):
            target.updates_pulled_until = end
            return applied
        newest = max(
            (t for t in (updates.parse_time(u.updated_datetime) for u in found) if t),
            default=cursor,
        )
        if newest > cursor:
            cursor, page = newest, 1
        else:
            page += 1
    target.updates_pulled_until = cursor
    return applied


def pull(target: ForwardTarget, now: datetime | None = None) -> int:
    """Bring the CRM's updates since the last pull onto our timelines; returns how many."""
    now = (now or utcnow()).replace(microsecond=0) + timedelta(seconds=1)
    timeout = float(current_app.config["FORWARD_TIMEOUT"])
    start = (target.updates_pulled_until or now - FIRST_PULL) - PULL_OVERLAP
    start = max(start, now - timedelta(days=89))
    try:
        try:
            applied = _pull_feed(target, start, now, timeout)
        except Refused:
            applied = _apply(target, _fallback_updates(target, timeout), None)
            target.updates_pulled_until = now
    except (Unreachable, Refused) as failure:
        target.last_error = str(failure)[:1000]
        db.session.commit()
        return 0
    target.last_error = None
    db.session.commit()
    return applied


def pull_all() -> int:
    """Pull every active target that has requests there."""
    targets = db.session.scalars(
        select(ForwardTarget).where(ForwardTarget.active.is_(True)).order_by(ForwardTarget.id)
    ).all()
    return sum(pull(target) for target in targets)
