"""Actions a crew queued on their phone, applied exactly once, in order, or refused as a conflict.

Each action carries an idempotency key made on the phone and what the crew saw when they
queued it (``seen_closed``, ``seen_assignee_id``). The first arrival of a key decides its
outcome and records it (``StaffAction``) in the same transaction as the change; any resend
of the key gets the recorded outcome back and changes nothing. The database's UNIQUE
constraint on the key, not a prior SELECT, settles two sends racing.

A conflict is never applied on top: when the request was closed (or merged) or handed to
someone else since the crew saw it, the action is refused with the reason, recorded as a
conflict, and the phone keeps it for the crew to redo (a new key) or drop.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import assignment, workflow
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import requests as requests_domain
from webapp.models import (
    PhotoKind,
    Resolution,
    ServiceRequest,
    StaffAction,
    Status,
    User,
)
from webapp.plumbing.extensions import db

KINDS = ("acknowledge", "note", "photo", "close", "reassign")
APPLIED, CONFLICT = "applied", "conflict"


@dataclass
class QueuedAction:
    """One action as the phone sent it."""

    key: str
    kind: str
    public_id: str
    seen_closed: bool = False
    seen_assignee_id: int | None = None
    note: str = ""
    public: bool = False
    resolution: str = ""
    assignee_id: int | None = None
    photo: bytes = field(default=b"", repr=False)

    def fingerprint(self) -> str:
        """What the key stands for: a resend must be this same action."""
        fields = {
            "kind": self.kind,
            "request": self.public_id,
            "note": self.note,
            "public": self.public,
            "resolution": self.resolution,
            "assignee": self.assignee_id,
            "photo": hashlib.sha256(self.photo).hexdigest() if self.photo else None,
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class Outcome:
    """What happened to an action: applied, or a conflict and why; ``replayed`` on a resend."""

    outcome: str
    reason: str | None
    request: ServiceRequest
    replayed: bool = False


def _recorded(key: str) -> StaffAction | None:
    return db.session.scalars(
        select(StaffAction).where(StaffAction.idempotency_key == key)
    ).first()


def _replay(row: StaffAction, action: QueuedAction, user: User) -> Outcome:
    if row.fingerprint != action.fingerprint() or row.user_id != user.id:
        raise DomainError(
            _("This action's key was already used for a different action."),
            field="key",
            status=422,
        )
    request = db.session.get(ServiceRequest, row.request_id)
    return Outcome(row.outcome, row.reason, request, replayed=True)


def conflict_reason(request: ServiceRequest, action: QueuedAction, user: User) -> str | None:
    """Why the action cannot be applied on top of what changed meanwhile, or None."""
    if request.is_closed and not action.seen_closed:
        if request.duplicate_of is not None:
            return _(
                "Merged into %(survivor)s by someone else meanwhile.",
                survivor=request.duplicate_of.public_id,
            )
        return _("Closed by someone else meanwhile.")
    if request.assignee_id != action.seen_assignee_id:
        name = request.assignee.display_name if request.assignee else _("nobody")
        return _("Reassigned to %(name)s meanwhile.", name=name)
    if request.is_closed and action.kind != "note":
        return _("The request is closed.")
    return None


def _apply(request: ServiceRequest, action: QueuedAction, user: User):
    """Make the change with the usual rules; returns the timeline event."""
    if action.kind == "acknowledge":
        if request.detailed_status == Status.SUBMITTED:
            return workflow.transition(request, Status.ACKNOWLEDGED, user, note=action.note)
        return None  # already acknowledged or in progress: nothing to do
    if action.kind == "note":
        return workflow.add_note(request, user, action.note, public=action.public)
    if action.kind == "photo":
        if not action.photo:
            raise DomainError(_("Please add a photo."), field="photo")
        processed = photo_pipeline.process(action.photo)
        event = workflow.add_note(
            request, user, action.note or _("After photo"), public=action.public
        )
        photo_pipeline.attach(request, processed, kind=PhotoKind.CLOSURE, event=event)
        return event
    if action.kind == "close":
        processed = photo_pipeline.process(action.photo) if action.photo else None
        event = workflow.transition(
            request,
            Status.CLOSED,
            user,
            note=action.note,
            resolution=action.resolution or Resolution.FIXED,
        )
        if processed is not None:
            photo_pipeline.attach(request, processed, kind=PhotoKind.CLOSURE, event=event)
        return event
    if action.kind == "reassign":
        assignee = db.session.get(User, action.assignee_id) if action.assignee_id else None
        if assignee is None:
            raise DomainError(_("That person does not exist."), field="assignee")
        return assignment.assign(request, user, assignee=assignee)
    raise DomainError(_("That is not an action we know."), field="kind")


def submit(action: QueuedAction, user: User) -> Outcome:
    """Apply a queued action exactly once (or refuse it as a conflict) and commit.

    A refusal by the usual rules (an empty note, an unknown resolution) is a DomainError
    and records nothing: the phone shows it and the crew fixes the action.
    """
    if action.kind not in KINDS:
        raise DomainError(_("That is not an action we know."), field="kind")
    row = _recorded(action.key)
    if row is not None:
        return _replay(row, action, user)
    request = requests_domain.get_by_public_id(action.public_id)
    reason = conflict_reason(request, action, user)
    event = None
    if reason is None:
        event = _apply(request, action, user)
    db.session.add(
        StaffAction(
            idempotency_key=action.key,
            user_id=user.id,
            request_id=request.id,
            kind=action.kind,
            fingerprint=action.fingerprint(),
            outcome=CONFLICT if reason else APPLIED,
            reason=reason,
            event_id=event.id if event is not None else None,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        row = _recorded(action.key)
        if row is None:
            raise
        return _replay(row, action, user)
    return Outcome(CONFLICT if reason else APPLIED, reason, request)
