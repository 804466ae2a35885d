"""Following a request ("me too"): a resident, a liaison or an anonymous phone hears of
its changes, and a neighbor who did not report it counts once as a supporter.

A signed-in person follows as themselves; the device speaks only for the anonymous, so a
shared phone does not follow on anyone's behalf. A request in a private service cannot be
followed (it is NotFound, as everywhere else). The request keeps its count of supporters,
the figure the public sees.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from webapp.domain.errors import DomainError, NotFound
from webapp.domain.lifecycle.requests import is_requester
from webapp.models import Device, Follow, ServiceRequest, User
from webapp.plumbing.extensions import db


def has_follower(request: ServiceRequest, user_id: int | None, device_id: int | None) -> bool:
    """True when that account or that device already follows the request."""
    query = select(Follow.id).where(Follow.request_id == request.id)
    if user_id is not None:
        if db.session.scalars(query.where(Follow.user_id == user_id)).first():
            return True
    if device_id is not None:
        if db.session.scalars(query.where(Follow.device_id == device_id)).first():
            return True
    return False


def count_supporters(request: ServiceRequest) -> int:
    """How many follow the request as supporters (not its own requester)."""
    return (
        db.session.scalar(
            select(func.count(Follow.id)).where(
                Follow.request_id == request.id, Follow.supporter.is_(True)
            )
        )
        or 0
    )


def add_follow(
    request: ServiceRequest, user: User | None, device: Device | None, *, supporter: bool
) -> Follow:
    """Add one follow in the caller's transaction (see ``follow`` for the checks)."""
    item = Follow(
        request=request,
        # A signed-in person follows as themselves; the device is only for the anonymous.
        device_id=device.id if device and not user else None,
        user_id=user.id if user else None,
        supporter=supporter,
    )
    db.session.add(item)
    db.session.flush()
    return item


def _as_caller(user: User | None, device: Device | None) -> tuple[User | None, Device | None]:
    """A signed-in person acts as themselves; the device speaks only for the anonymous."""
    return (user, None) if user is not None else (None, device)


def follow(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """Follow a request ("me too"); returns False when already following.

    Someone who did not report the request counts once as a supporter.
    """
    if not request.service.public:
        raise NotFound(_("We could not find that request."))
    user, device = _as_caller(user, device)
    if user is None and device is None:
        raise DomainError(
            _("Sign in or use this app on your device to follow requests."), status=401
        )
    if has_follower(request, user.id if user else None, device.id if device else None):
        return False
    add_follow(request, user, device, supporter=not is_requester(request, user, device))
    request.supporters_count = count_supporters(request)
    return True


def unfollow(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """Stop following; returns False when there was nothing to stop."""
    user, device = _as_caller(user, device)
    conditions = []
    if user is not None:
        conditions.append(Follow.user_id == user.id)
    if device is not None:
        conditions.append(Follow.device_id == device.id)
    if not conditions:
        return False
    follows = db.session.scalars(
        select(Follow).where(Follow.request_id == request.id, or_(*conditions))
    ).all()
    for item in follows:
        db.session.delete(item)
    db.session.flush()
    request.supporters_count = count_supporters(request)
    return bool(follows)


def is_following(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """True when the caller (the signed-in user, else the device) follows the request."""
    user, device = _as_caller(user, device)
    return has_follower(request, user.id if user else None, device.id if device else None)
