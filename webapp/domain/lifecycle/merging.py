"""Merging duplicates: two reports of the same problem become one.

The duplicate is closed as a duplicate of the survivor (a ``Transitioned`` to closed with
the resolution "duplicate"); everyone who followed it, and whoever reported it, now
follows the survivor too, once, as a supporter: the survivor's count of neighbors who care
is right and they hear of the outcome. The survivor's timeline says what was merged
(``Merged``).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle.following import count_supporters, has_follower
from webapp.domain.lifecycle.timeline import record
from webapp.domain.lifecycle.workflow import transition
from webapp.models import EventKind, Follow, RequestEvent, Resolution, ServiceRequest, Status, User
from webapp.plumbing.extensions import db


def merge(
    duplicate: ServiceRequest, survivor: ServiceRequest, actor: User, note: str | None = None
) -> RequestEvent:
    """Close ``duplicate`` as a duplicate of ``survivor``; its followers move over."""
    if duplicate.id == survivor.id:
        raise DomainError(_("A request cannot be merged into itself."), field="survivor")
    if duplicate.is_closed:
        raise NotAllowed(_("This request is already closed."), field="survivor")
    if survivor.is_closed:
        raise NotAllowed(_("Merge into an open request."), field="survivor")
    moved = 0
    for follow in db.session.scalars(select(Follow).where(Follow.request_id == duplicate.id)):
        if not has_follower(survivor, follow.user_id, follow.device_id):
            db.session.add(
                Follow(
                    request=survivor,
                    user_id=follow.user_id,
                    device_id=follow.device_id,
                    supporter=True,
                )
            )
            moved += 1
    if duplicate.requester_id or duplicate.device_id:
        if not has_follower(survivor, duplicate.requester_id, duplicate.device_id) and (
            duplicate.requester_id != survivor.requester_id
            or duplicate.device_id != survivor.device_id
        ):
            db.session.add(
                Follow(
                    request=survivor,
                    user_id=duplicate.requester_id,
                    device_id=duplicate.device_id,
                    supporter=True,
                )
            )
            moved += 1
    db.session.flush()
    survivor.supporters_count = count_supporters(survivor)
    message = (note or "").strip() or _(
        "Merged into %(survivor)s, which reports the same problem.", survivor=survivor.public_id
    )
    event = transition(
        duplicate,
        Status.CLOSED,
        actor,
        note=message,
        resolution=Resolution.DUPLICATE,
        duplicate_of=survivor,
    )
    record(
        survivor,
        EventKind.MERGED,
        actor=actor,
        data={"merged": duplicate.public_id, "followers_moved": moved},
    )
    return event
