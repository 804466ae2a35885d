"""Supporters: a neighbor who finds their problem already reported follows it instead of
sending a second report, and what they had to say (a note, photos) is kept on it."""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import requests as requests_domain
from webapp.models import Device, EventKind, PhotoKind, RequestEvent, ServiceRequest, User

MAX_PHOTOS = 3


def follow_instead(
    request: ServiceRequest,
    *,
    user: User | None = None,
    device: Device | None = None,
    comment: str | None = None,
    photos: list[bytes] | None = None,
) -> tuple[bool, RequestEvent | None, list[str]]:
    """Follow ``request`` as a supporter and keep the supporter's note and photos on it.

    Returns (newly following, the comment's timeline entry or None, photo storage keys
    newly written — the caller passes them to ``photos.discard`` if it cannot commit).
    A note or photos on a closed request are refused: the neighbor should report anew.
    """
    clean = (comment or "").strip()
    photos = [data for data in (photos or []) if data]
    if len(clean) > requests_domain.MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="comment")
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("You can add up to %(n)d photos.", n=MAX_PHOTOS), field="photo")
    if (clean or photos) and request.is_closed:
        raise NotAllowed(_("This request is closed. Please send a new report instead."))
    processed = [photo_pipeline.process(data) for data in photos]
    followed = requests_domain.follow(request, user=user, device=device)
    if not clean and not processed:
        return followed, None, []
    event = requests_domain._record(
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
