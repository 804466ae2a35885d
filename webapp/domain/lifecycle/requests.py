"""Finding requests: one by its public number, as a person types it or a link carries it,
and the ones a caller made.

Read-only: nothing here writes. The rest of the request's life is in its own modules
(``submission``, ``workflow``, ``assignment``, ``location``, ``merging``, ``after_closure``,
``following``), each writing its change through ``timeline``; see the package docstring.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.orm import joinedload

from webapp.domain.errors import NotFound
from webapp.models import (
    Department,
    Device,
    DeviceEmail,
    Neighborhood,
    ServiceRequest,
    User,
)
from webapp.plumbing.extensions import db

PUBLIC_ID_PREFIX = "311-"
PUBLIC_ID_TEXT = re.compile(r"^[\x20-\x7e]{1,20}$")


@cache
def with_public_record() -> tuple:
    """Loader options for a request answered with its public record and timeline.

    Everything comes in one statement instead of one per relation, which is most of
    what answering a report (new or replayed) costs the database. The photos (three at
    most) and the timeline (a few entries while a report is young) multiply its rows.
    Of the neighbourhood and the department only the name is read (a neighbourhood's
    outline can be a large document, parsed for nothing). Results need ``.unique()``: a
    request with several photos comes in several rows. Built once (options are immutable).
    """
    return (
        joinedload(ServiceRequest.service),
        joinedload(ServiceRequest.neighborhood).load_only(Neighborhood.name),
        joinedload(ServiceRequest.department).load_only(Department.name),
        joinedload(ServiceRequest.photos),
        joinedload(ServiceRequest.events),
    )


def load_public_record(request: ServiceRequest) -> ServiceRequest:
    """The same request again with what its public record reads loaded in one go
    (``with_public_record``), e.g. after a commit expired it. Its key is read from the
    identity map, so an expired request is not loaded twice."""
    (request_id,) = inspect(request).identity
    return (
        db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id == request_id)
            .options(*with_public_record())
        )
        .unique()
        .one()
    )


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
