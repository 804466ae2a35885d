"""The workflow staff move a request along, and the notes they write on its timeline.

submitted → acknowledged → in_progress → closed(resolution): ``ALLOWED_TRANSITIONS`` says
which moves exist and ``transition`` makes them, for staff, for a merge and for the city's
CRM alike (reopening is the requester's, in ``after_closure``). Closing needs a resolution
and a public note for the resident; the canned notes staff start from are the response
templates. Every move and note is one timeline entry, published to whoever listens;
callers commit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from webapp.domain import service_levels
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.input_rules import InputError, clean_text, column_length
from webapp.domain.lifecycle.timeline import MAX_DESCRIPTION, record
from webapp.models import (
    EventKind,
    RequestEvent,
    Resolution,
    ResponseTemplate,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.SUBMITTED: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ACKNOWLEDGED: {Status.IN_PROGRESS, Status.CLOSED},
    Status.IN_PROGRESS: {Status.ACKNOWLEDGED, Status.CLOSED},
    Status.CLOSED: set(),
}


def _require_note(note: str | None, what: str) -> str:
    note = (note or "").strip()
    if not note:
        raise DomainError(
            _("Please write a public note for the resident before you %(what)s.", what=what),
            field="note",
        )
    if len(note) > MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="note")
    return note


def transition(
    request: ServiceRequest,
    to_status: str,
    actor: User,
    *,
    note: str | None = None,
    resolution: str | None = None,
    referred_to: str | None = None,
    duplicate_of: ServiceRequest | None = None,
    origin: dict | None = None,
) -> RequestEvent:
    """Move a request along the workflow; refuse moves the workflow does not allow.

    Closing needs a resolution and a public note; ``duplicate`` needs the surviving
    request and ``referred`` needs where it was referred to. ``origin`` is recorded on
    the timeline entry before it is published (a change from the city's CRM says so,
    and the channels that listen can tell).
    """
    try:
        target = Status(to_status)
    except ValueError:
        raise DomainError(_("That is not a status we know."), field="status") from None
    current = request.detailed_status
    if target not in ALLOWED_TRANSITIONS[current]:
        raise NotAllowed(
            _(
                "A request that is %(current_replace)s cannot move to %(target_replace)s.",
                current_replace=current.replace("_", " "),
                target_replace=target.replace("_", " "),
            ),
            field="status",
        )
    if target != Status.CLOSED:
        request.detailed_status = target
        request.status = "open"
        kind = EventKind.ACKNOWLEDGED if target == Status.ACKNOWLEDGED else EventKind.STATUS_CHANGED
        clean = (note or "").strip() or None
        return record(
            request,
            kind,
            actor=actor,
            from_status=current,
            to_status=target,
            note=clean,
            data=dict(origin or {}),
        )

    clean_note = _require_note(note, "close it")
    try:
        outcome = Resolution(resolution or "")
    except ValueError:
        raise DomainError(
            _("Please choose how the request was resolved."), field="resolution"
        ) from None
    data: dict[str, Any] = {**(origin or {}), "resolution": outcome.value}
    if outcome == Resolution.DUPLICATE:
        if duplicate_of is None or duplicate_of.id == request.id:
            raise DomainError(
                _("Please say which request this one duplicates."), field="duplicate_of"
            )
        request.duplicate_of = duplicate_of
        data["duplicate_of"] = duplicate_of.public_id
    if outcome == Resolution.REFERRED:
        if not (referred_to or "").strip():
            raise DomainError(_("Please say where the request was referred."), field="referred_to")
        try:
            request.referred_to = clean_text(
                referred_to.strip(), max_length=column_length(ServiceRequest.referred_to)
            )
        except InputError as error:
            raise DomainError(f"referred_to {error.message}.", field="referred_to") from None
        data["referred_to"] = request.referred_to
    now = utcnow()
    service_levels.resume(request, now)  # a close while waiting on the resident ends the pause
    request.detailed_status = Status.CLOSED
    request.status = "closed"
    request.resolution = outcome
    request.resolution_note = clean_note
    request.closed_at = now
    return record(
        request,
        EventKind.STATUS_CHANGED,
        actor=actor,
        from_status=current,
        to_status=Status.CLOSED,
        note=clean_note,
        data=data,
    )


def add_note(request: ServiceRequest, actor: User, note: str, *, public: bool) -> RequestEvent:
    """Add a public note (the resident sees it) or a private one (staff only)."""
    clean = (note or "").strip()
    if not clean:
        raise DomainError(_("The note is empty."), field="note")
    if len(clean) > MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="note")
    kind = EventKind.PUBLIC_NOTE if public else EventKind.PRIVATE_NOTE
    return record(request, kind, actor=actor, note=clean, public=public)


def response_templates(service_id: int | None, status: str | None = None) -> list:
    """Canned notes for a service and target status; generic ones (no service) too."""
    query = select(ResponseTemplate).where(
        or_(ResponseTemplate.service_id.is_(None), ResponseTemplate.service_id == service_id)
    )
    if status is not None:
        query = query.where(
            or_(ResponseTemplate.status.is_(None), ResponseTemplate.status == status)
        )
    return list(db.session.scalars(query.order_by(ResponseTemplate.title)))
