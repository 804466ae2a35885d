"""Service request updates, both ways (mySociety's ``servicerequestupdates``).

Outgoing: every public timeline entry that moves a request or speaks to the
resident (acknowledged, status changed, public note, reopened) is one update; its
``update_id`` is the timeline entry's id, so it is stable and never reused.

Incoming: a comment a resident made elsewhere (FixMyStreet, another app) becomes a
public note on the timeline, reopening a closed request when asked and allowed;
an update pulled from the city's CRM moves the request along the workflow. Both are
idempotent on the sender's ``update_id`` (kept as the event's ``external_id``).

The acceptance rules for incoming updates follow the ones FixMyStreet applies when
it pulls updates (``Open311::GetServiceRequestUpdates``): an update without an id,
a request id or a readable time is skipped; one outside the asked window is
skipped; one already seen is skipped; an update older than the CRM's last update
applied (its own clock, kept per forwarded request) adds its text but does not move
the status; moving between two closed
outcomes is not done; an update with no text and no status change is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain import glossary
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import after_closure, timeline, workflow
from webapp.domain.open311 import open311_statuses as statuses
from webapp.models import (
    EventKind,
    Photo,
    PhotoKind,
    RequestEvent,
    Resolution,
    Service,
    ServiceRequest,
    Status,
    utcnow,
)
from webapp.plumbing.extensions import db

UPDATE_KINDS = (
    EventKind.ACKNOWLEDGED,
    EventKind.STATUS_CHANGED,
    EventKind.PUBLIC_NOTE,
    EventKind.REOPENED,
)
MAX_EXTERNAL_ID = 80


@dataclass
class OutgoingUpdate:
    """One ``request_update`` as plain values (photo keys are turned into URLs later)."""

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime
    description: str
    external_status_code: str
    photo_key: str | None = None
    media_url: str | None = None


def _status_sentence(status: str, resolution: str | None) -> str:
    """What a status change says when staff wrote no note."""
    if status == Status.CLOSED:
        return {
            Resolution.FIXED: _("The city fixed this problem."),
            Resolution.DUPLICATE: _("The city closed this as a duplicate of another report."),
            Resolution.REFERRED: _("This is not a city matter; the city referred it on."),
            Resolution.CANNOT_LOCATE: _("The city could not find this problem."),
            Resolution.NO_ACTION_NEEDED: _("The city found that no action was needed."),
        }.get(resolution, _("The city closed this request."))
    if status in (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS):
        # The same sentence the request's own page shows (the glossary's).
        return glossary.status_meaning(status, own=False)
    return _("The city updated this request.")


def public_updates(
    start: datetime | None, end: datetime | None, *, limit: int, offset: int = 0
) -> list[OutgoingUpdate]:
    """Public updates of public services made within [start, end], oldest first."""
    query = (
        select(RequestEvent, ServiceRequest.public_id)
        .join(ServiceRequest, ServiceRequest.id == RequestEvent.request_id)
        .join(Service, Service.id == ServiceRequest.service_id)
        .where(
            Service.public.is_(True),
            RequestEvent.public.is_(True),
            RequestEvent.kind.in_(UPDATE_KINDS),
        )
    )
    if start is not None:
        query = query.where(RequestEvent.created_at >= start)
    if end is not None:
        query = query.where(RequestEvent.created_at <= end)
    rows = db.session.execute(
        query.order_by(RequestEvent.created_at, RequestEvent.id).limit(limit).offset(offset)
    ).all()
    if not rows:
        return []
    request_ids = {event.request_id for event, _public_id in rows}
    history: dict[int, list[RequestEvent]] = {}
    for event in db.session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id.in_(request_ids), RequestEvent.to_status.is_not(None))
        .order_by(RequestEvent.id)
    ):
        history.setdefault(event.request_id, []).append(event)
    photos: dict[int, str] = {}
    event_ids = [event.id for event, _public_id in rows]
    for event_id, key in db.session.execute(
        select(Photo.event_id, Photo.display_key)
        .where(Photo.event_id.in_(event_ids))
        .order_by(Photo.id)
    ):
        photos.setdefault(event_id, key)
    updates = []
    for event, public_id in rows:
        status, resolution = Status.SUBMITTED, None
        for earlier in history.get(event.request_id, []):
            if earlier.id > event.id:
                break
            status = earlier.to_status
            resolution = (earlier.data or {}).get("resolution") if status == Status.CLOSED else None
        updates.append(
            OutgoingUpdate(
                update_id=str(event.id),
                service_request_id=public_id,
                status=statuses.extended_status(status, resolution),
                updated_datetime=event.created_at,
                description=event.note or _status_sentence(status, resolution),
                external_status_code=statuses.external_status_code(status, resolution),
                photo_key=photos.get(event.id),
                media_url=(event.data or {}).get("media_url"),
            )
        )
    return updates


def find_by_external_id(external_id: str) -> RequestEvent | None:
    """The timeline entry that an earlier delivery of the same update created."""
    return db.session.scalars(
        select(RequestEvent).where(RequestEvent.external_id == external_id)
    ).first()


@dataclass
class Comment:
    """A resident's comment that arrived through Open311."""

    text: str
    status: str | None = None
    update_id: str = ""
    email: str | None = None
    author: str | None = None
    photos: list[bytes] = field(default_factory=list)
    media_urls: list[dict] = field(default_factory=list)


def _speaks_as_requester(request: ServiceRequest, email: str | None, api_key_id: int | None) -> bool:
    """True when an Open311 client may act as the request's requester.

    A key holder cannot prove who its user is, so it never acts as a resident's account
    (the rule that keeps key holders from linking requests to accounts). It may only
    speak again for the person it reported for: the request came in with this very key,
    and the e-mail given is the contact e-mail that key stored on it. When that key
    stored no e-mail (the resident gave none), the key is the only one that speaks for
    that resident, so the key alone is enough.
    """
    if api_key_id is None or request.api_key_id != api_key_id:
        return False
    stored = (request.contact_email or "").strip().lower()
    if not stored:
        return True
    return bool(email) and email.strip().lower() == stored


def accept_comment(
    request: ServiceRequest,
    comment: Comment,
    *,
    sender_key: str,
    window_days: int,
    api_key_id: int | None = None,
    now: datetime | None = None,
) -> tuple[RequestEvent, bool]:
    """Store a resident's comment once; returns (the timeline entry, created now).

    It is a public note. When the comment asks to open the request again (``OPEN``
    or ``REOPEN``), the request is closed, the reopen window has not passed and the
    comment comes from the requester — the key (``api_key_id``) that submitted the
    request, with the contact e-mail it stored on it — it reopens the request instead,
    as the requester's own "not fixed" would. The caller commits.
    """
    from webapp.domain.lifecycle import photos as photo_pipeline

    if not comment.update_id.strip():
        raise DomainError(_("update_id is required."), status=400, field="update_id")
    external_id = f"{sender_key}:{comment.update_id.strip()[:MAX_EXTERNAL_ID]}"
    earlier = find_by_external_id(external_id)
    if earlier is not None:
        if earlier.request_id != request.id:
            raise DomainError(
                _("update_id %(id)s was already used for another request.", id=comment.update_id),
                status=400,
                field="update_id",
            )
        return earlier, False
    wanted = statuses.incoming(comment.status) if comment.status else None
    if comment.status and wanted is None:
        raise DomainError(
            _(
                "status must be one of %(known)s.",
                known=", ".join(statuses.known_statuses()),
            ),
            status=400,
            field="status",
        )
    text = timeline.normalise_text(comment.text)
    if len(text) > timeline.MAX_DESCRIPTION:
        raise DomainError(_("The comment is too long."), status=400, field="description")
    if not text and not comment.photos and not comment.media_urls:
        raise DomainError(
            _("description is required (or a photo)."), status=400, field="description"
        )
    data = {"source": "open311"}
    if comment.author:
        data["author"] = comment.author[:60]
    if comment.media_urls:
        data["media_urls"] = comment.media_urls
        kept = [item["url"] for item in comment.media_urls if not item.get("fetched")]
        if kept:
            data["media_url"] = kept[0]
    processed = [photo_pipeline.process(item) for item in comment.photos]
    now = now or utcnow()
    reopen = (
        wanted is not None
        and wanted.reopen
        and request.is_closed
        and _speaks_as_requester(request, comment.email, api_key_id)
        and after_closure.can_reopen(request, window_days, now)
    )
    if reopen:
        event = after_closure.reopen(
            request,
            text or _("Reopened with a photo."),
            window_days=window_days,
            now=now,
            proven=True,
        )
        event.data = {**(event.data or {}), **data}
    else:
        event = timeline.record(
            request,
            EventKind.PUBLIC_NOTE,
            note=text or _("A photo was added."),
            data=data,
        )
    event.external_id = external_id
    for item in processed:
        photo_pipeline.attach(request, item, kind=PhotoKind.COMMENT, event=event)
    db.session.flush()
    return event, True


@dataclass
class RemoteUpdate:
    """One ``request_update`` read from the city's CRM (all values as sent)."""

    update_id: str | None
    service_request_id: str | None
    status: str | None
    updated_datetime: str | None
    description: str | None = None
    external_status_code: str | None = None
    media_url: str | None = None


def parse_time(raw: str | None) -> datetime | None:
    """A W3C datetime with a timezone, or None when it cannot be read."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def apply_remote_update(
    request: ServiceRequest,
    update: RemoteUpdate,
    *,
    source_key: str,
    window: tuple[datetime, datetime] | None = None,
    referred_to: str = "",
    remote_since: datetime | None = None,
) -> RequestEvent | None:
    """Apply one update from the city's CRM to a forwarded request, by FixMyStreet's
    acceptance rules (see the module docstring). Returns the new timeline entry, or
    None when the update was skipped. The caller commits.

    ``remote_since`` is the CRM's own time of the last update applied to this request:
    an update older than it adds its words but does not move the status. It is never
    compared with our clock (when we applied something says nothing about the CRM's)."""
    if not update.update_id or not update.service_request_id:
        return None
    when = parse_time(update.updated_datetime)
    if when is None:
        return None
    if window is not None and not (window[0] <= when <= window[1]):
        return None
    external_id = f"{source_key}:{update.update_id.strip()[:MAX_EXTERNAL_ID]}"
    if find_by_external_id(external_id) is not None:
        return None
    wanted = statuses.incoming(update.status)
    text = timeline.normalise_text(update.description)[: timeline.MAX_DESCRIPTION]
    data = {"source": "crm", "remote_status": update.status or ""}
    if update.external_status_code:
        data["external_status_code"] = update.external_status_code[:60]
    media_url = (update.media_url or "").strip()
    if media_url.startswith(("http://", "https://")) and len(media_url) <= 1000:
        data["media_url"] = media_url  # the CRM's photo, kept as a reference
    older = remote_since is not None and when < remote_since
    event = None
    if wanted is not None and not older:
        event = _move(
            request, _finer(wanted, update.external_status_code), text, data, referred_to
        )
    if event is None:
        if not text:
            return None
        event = timeline.record(request, EventKind.PUBLIC_NOTE, note=text, data=data)
    event.external_id = external_id
    db.session.flush()
    return event


def _finer(wanted: statuses.Incoming, code: str | None) -> statuses.Incoming:
    """A CRM that is itself a Civic311 names the exact outcome in
    ``external_status_code`` (``cannot_locate`` vs ``no_action_needed``): keep it."""
    code = (code or "").strip()
    if (
        wanted.status == Status.CLOSED
        and wanted.resolution in (Resolution.NO_ACTION_NEEDED, Resolution.CANNOT_LOCATE)
        and code in (Resolution.NO_ACTION_NEEDED, Resolution.CANNOT_LOCATE)
    ):
        return statuses.Incoming(Status.CLOSED, Resolution(code))
    return wanted


def _move(
    request: ServiceRequest,
    wanted: statuses.Incoming,
    text: str,
    data: dict,
    referred_to: str,
) -> RequestEvent | None:
    """Move the request where the CRM says it is; None when there is nothing to move."""
    current = request.detailed_status
    if wanted.status == Status.CLOSED:
        if request.is_closed:
            return None
        note = text or _status_sentence(Status.CLOSED, wanted.resolution)
        if wanted.resolution == Resolution.DUPLICATE:
            now = utcnow()
            request.detailed_status = Status.CLOSED
            request.status = "closed"
            request.resolution = Resolution.DUPLICATE
            request.resolution_note = note
            request.closed_at = now
            return timeline.record(
                request,
                EventKind.STATUS_CHANGED,
                from_status=current,
                to_status=Status.CLOSED,
                note=note,
                data={**data, "resolution": Resolution.DUPLICATE.value},
            )
        event = workflow.transition(
            request,
            Status.CLOSED,
            None,
            note=note,
            resolution=wanted.resolution,
            referred_to=referred_to or _("the city's other services"),
            origin=data,
        )
        return event
    if wanted.reopen and not request.is_closed:
        return None
    if request.is_closed:
        if not wanted.reopen:
            return None
        previous = request.detailed_status
        request.detailed_status = wanted.status
        request.status = "open"
        request.reopened = True
        request.reopen_count += 1
        request.resolution = None
        request.resolution_note = None
        request.closed_at = None
        return timeline.record(
            request,
            EventKind.REOPENED,
            from_status=previous,
            to_status=wanted.status,
            note=text or _("The city opened this request again."),
            data=data,
        )
    if wanted.status == current or wanted.status not in workflow.ALLOWED_TRANSITIONS[current]:
        return None
    return workflow.transition(
        request, wanted.status, None, note=text or None, origin=data
    )
