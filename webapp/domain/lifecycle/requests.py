"""The life of a service request: submit (idempotent), move through the workflow,
merge duplicates, follow, and reopen when it was not really fixed.

Workflow: submitted → acknowledged → in_progress → closed(resolution). Every change
writes a RequestEvent and publishes it (``webapp.domain.events``); whoever subscribed
(notifications, forwarding, area alerts, routing) acts in the same transaction. Callers
commit; on a DomainError they roll back.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from webapp.domain.errors import DomainError, NotFound
from webapp.models import (
    Device,
    DeviceEmail,
    Follow,
    ServiceRequest,
    User,
)
from webapp.plumbing.extensions import db

PUBLIC_ID_PREFIX = "311-"
PUBLIC_ID_TEXT = re.compile(r"^[\x20-\x7e]{1,20}$")
def public_id_from_number(raw: str | None) -> str | None:
    """The public id a person typed, in any of its forms (``311-000123``, ``#123``,
    ``000123``, ``123``), or None when it is not one.

    Only ASCII digits count (the whole-number input rule): ``²`` or ``٣`` are digits to
    Python's ``isdigit`` but not a request number.
    """
    text = (raw or "").strip().upper()
    digits = text.removeprefix(PUBLIC_ID_PREFIX.upper()).lstrip("#")
    if not digits or len(digits) > 9 or not digits.isascii() or not digits.isdigit():
        return None
    return f"{PUBLIC_ID_PREFIX}{int(digits):06d}"


def get_by_public_id(public_id: str) -> ServiceRequest:
    """The request with that public id (``311-000123``), or NotFound."""
    if not isinstance(public_id, str) or not PUBLIC_ID_TEXT.match(public_id):
        raise NotFound(_("We could not find that request. Please check the number."))
    request = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.public_id == public_id)
    ).first()
    if request is None:
        raise NotFound(_("We could not find that request. Please check the number."))
    return request


def get_public_by_public_id(public_id: str) -> ServiceRequest:
    """The request when the public may see it: a request in a private service is NotFound,
    exactly as if it did not exist (the API, the pages and push all answer 404)."""
    request = get_by_public_id(public_id)
    if not request.service.public:
        raise NotFound(_("We could not find that request."))
    return request


def is_requester(request: ServiceRequest, user: User | None, device: Device | None) -> bool:
    """True when ``user`` made the request, or ``device`` made it (or proved it controls
    the e-mail address the request was sent with: it followed a sign-in link) and no
    account owns it.

    A request an account has claimed is that account's alone: the phone it was sent
    from no longer speaks for it (the next person on a shared phone cannot reopen it).
    """
    if user is not None and request.requester_id == user.id:
        return True
    if device is None or request.requester_id is not None:
        return False
    if request.device_id == device.id:
        return True
    if not request.contact_email:
        return False
    return (
        db.session.scalar(
            select(DeviceEmail.id).where(
                DeviceEmail.device_id == device.id,
                DeviceEmail.address == request.contact_email.strip().lower(),
            )
        )
        is not None
    )


def owned_by(user: User | None, device: Device | None):
    """A condition for the requests ``user`` or ``device`` made (see ``is_requester``),
    or None when the caller is nobody."""
    conditions = []
    if user is not None:
        conditions.append(ServiceRequest.requester_id == user.id)
    if device is not None:
        proven = select(DeviceEmail.address).where(DeviceEmail.device_id == device.id)
        conditions.append(
            and_(
                or_(
                    ServiceRequest.device_id == device.id,
                    func.lower(ServiceRequest.contact_email).in_(proven.scalar_subquery()),
                ),
                ServiceRequest.requester_id.is_(None),
            )
        )
    return or_(*conditions) if conditions else None


def _following(request: ServiceRequest, user_id: int | None, device_id: int | None) -> bool:
    query = select(Follow.id).where(Follow.request_id == request.id)
    if user_id is not None:
        if db.session.scalars(query.where(Follow.user_id == user_id)).first():
            return True
    if device_id is not None:
        if db.session.scalars(query.where(Follow.device_id == device_id)).first():
            return True
    return False


def _count_supporters(request: ServiceRequest) -> int:
    return (
        db.session.scalar(
            select(func.count(Follow.id)).where(
                Follow.request_id == request.id, Follow.supporter.is_(True)
            )
        )
        or 0
    )


def _add_follow(
    request: ServiceRequest, user: User | None, device: Device | None, *, supporter: bool
) -> Follow:
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
    if _following(request, user.id if user else None, device.id if device else None):
        return False
    _add_follow(request, user, device, supporter=not is_requester(request, user, device))
    request.supporters_count = _count_supporters(request)
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
    from sqlalchemy import or_

    follows = db.session.scalars(
        select(Follow).where(Follow.request_id == request.id, or_(*conditions))
    ).all()
    for item in follows:
        db.session.delete(item)
    db.session.flush()
    request.supporters_count = _count_supporters(request)
    return bool(follows)


def is_following(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """True when the caller (the signed-in user, else the device) follows the request."""
    user, device = _as_caller(user, device)
    return _following(request, user.id if user else None, device.id if device else None)
