"""Supporters: a neighbor who finds their problem already reported follows it instead of
sending a second report, and what they had to say (a note, photos) is kept on it."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.input_rules import normalise_address
from webapp.domain.lifecycle import following, timeline
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.models import (
    Device,
    EmailOptOut,
    EventKind,
    Follow,
    PhotoKind,
    RequestEvent,
    ServiceRequest,
    User,
)
from webapp.plumbing.extensions import db

MAX_PHOTOS = 3


def follow_instead(
    request: ServiceRequest,
    *,
    user: User | None = None,
    device: Device | None = None,
    comment: str | None = None,
    photos: list[bytes] | None = None,
    email: str | None = None,
) -> tuple[bool, RequestEvent | None, list[str]]:
    """Follow ``request`` as a supporter and keep the supporter's note and photos on it.

    ``email``, when given, is where the follower wants the outcome (their phone cannot
    be notified, or they prefer e-mail); see ``email_outcome_to``.

    Returns (newly following, the comment's timeline entry or None, photo storage keys
    newly written — the caller passes them to ``photos.discard`` if it cannot commit).
    A note or photos on a closed request are refused: the neighbor should report anew.
    """
    clean = (comment or "").strip()
    photos = [data for data in (photos or []) if data]
    if len(clean) > timeline.MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="comment")
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("You can add up to %(n)d photos.", n=MAX_PHOTOS), field="photo")
    if (clean or photos) and request.is_closed:
        raise NotAllowed(_("This request is closed. Please send a new report instead."))
    address = _checked_address(email) if (email or "").strip() else None
    processed = [photo_pipeline.process(data) for data in photos]
    followed = following.follow(request, user=user, device=device)
    if address:
        _remember_address(request, address, user=user, device=device)
    if not clean and not processed:
        return followed, None, []
    event = timeline.record(
        request,
        EventKind.SUPPORTER_COMMENT,
        actor=user,
        note=clean or None,
        data={"photos": len(processed)},
    )
    written: list[str] = []
    try:
        for item in processed:
            written += photo_pipeline.attach(request, item, kind=PhotoKind.SUPPORTER, event=event)
    except BaseException:
        photo_pipeline.discard(written)
        raise
    return followed, event, written


def _checked_address(address: str | None) -> str:
    clean = normalise_address(address, field="email")
    if clean is None:
        raise DomainError(_("Please enter your e-mail address."), field="email")
    return clean


def _own_follow(request: ServiceRequest, *, user: User | None, device: Device | None) -> Follow:
    """The caller's follow of ``request`` (a signed-in person's, else the device's)."""
    query = select(Follow).where(Follow.request_id == request.id)
    if user is not None:
        query = query.where(Follow.user_id == user.id)
    else:
        query = query.where(Follow.device_id == device.id)
    return db.session.scalars(query).one()


def _remember_address(
    request: ServiceRequest, address: str, *, user: User | None, device: Device | None
) -> None:
    follow = _own_follow(request, user=user, device=device)
    follow.email = address
    follow.locale = str(get_locale()) if has_request_context() else None
    # Asking again lifts an earlier "stop e-mails about this request" for this address.
    for opt_out in db.session.scalars(
        select(EmailOptOut).where(
            EmailOptOut.request_id == request.id, EmailOptOut.address == address.lower()
        )
    ):
        db.session.delete(opt_out)
    db.session.flush()


def email_outcome_to(
    request: ServiceRequest, address: str | None, *, user: User | None, device: Device | None
) -> str:
    """A neighbor follows ``request`` and asks for its outcome by e-mail (caller commits).

    This is the follower's choice when their phone cannot be notified: the closure (and
    the updates their device asked for) then reaches ``address``, in the language they
    asked in. The address stays on their own follow, never on the request, so another
    person's contact details are never changed. A closed request has no outcome left
    to wait for. Returns the normalised address.
    """
    clean = _checked_address(address)
    if request.is_closed:
        raise NotAllowed(_("This request is closed. Please send a new report instead."))
    following.follow(request, user=user, device=device)
    _remember_address(request, clean, user=user, device=device)
    return clean


def outcome_address(
    request: ServiceRequest, *, user: User | None, device: Device | None
) -> str | None:
    """The address this person (account, else device) asked the outcome of ``request`` to
    be e-mailed to as a follower, or None."""
    if user is None and device is None:
        return None
    query = select(Follow.email).where(Follow.request_id == request.id)
    if user is not None:
        query = query.where(Follow.user_id == user.id)
    else:
        query = query.where(Follow.device_id == device.id)
    return db.session.scalars(query).first()
