"""After closure, the requester has the last word: "yes, it's fixed", "not fixed" (the
request reopens), and a 1–5 rating of how it was handled.

Only the person who reported it may answer (``requests.is_requester``), or a caller that
proved it another way (a signed link to the address they gave, the Open311 client that
submitted it). Reopening is allowed for a window after closure and sends the request back
to the staff queue flagged as reopened; a confirmation and a rating count once per closure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle.requests import is_requester
from webapp.domain.lifecycle.timeline import MAX_DESCRIPTION, normalise_text, record
from webapp.models import Device, EventKind, RequestEvent, ServiceRequest, Status, User, utcnow


def reopen(
    request: ServiceRequest,
    comment: str,
    *,
    user: User | None = None,
    device: Device | None = None,
    photos: list[bytes] | None = None,
    window_days: int = 30,
    now: datetime | None = None,
    proven: bool = False,
) -> RequestEvent:
    """The requester says "not fixed": back to the staff queue, flagged as reopened.

    ``proven`` means the caller already proved to be the requester another way (a
    signed link sent to the address they gave, or the Open311 client that submitted
    the request sending the contact address stored on it)."""
    now = now or utcnow()
    if not proven and not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can reopen it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("This request is still open."))
    if request.closed_at and now - request.closed_at > timedelta(days=window_days):
        raise NotAllowed(
            _(
                "Requests can be reopened for %(window_days)s days after they close. Please make a new report.",
                window_days=window_days,
            )
        )
    clean = normalise_text(comment)
    if not clean:
        raise DomainError(_("Please tell the city what is still wrong."), field="comment")
    if len(clean) > MAX_DESCRIPTION:
        raise DomainError(_("The comment is too long."), field="comment")
    processed = [photo_pipeline.process(data) for data in (photos or [])]
    previous = request.detailed_status
    request.detailed_status = Status.ACKNOWLEDGED
    request.status = "open"
    request.reopened = True
    request.reopen_count += 1
    request.resolution = None
    request.resolution_note = None
    request.referred_to = None
    request.duplicate_of = None
    request.closed_at = None
    event = record(
        request,
        EventKind.REOPENED,
        actor=user,
        from_status=previous,
        to_status=Status.ACKNOWLEDGED,
        note=clean,
    )
    for item in processed:
        photo_pipeline.attach(request, item, kind="reopen", event=event)
    return event


def answer_survey(
    request: ServiceRequest,
    rating: int,
    comment: str | None,
    *,
    user: User | None = None,
    device: Device | None = None,
) -> RequestEvent:
    """Record the requester's 1–5 rating of how the request was handled."""
    if not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can rate it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("You can rate a request once it is closed."))
    if not isinstance(rating, int) or rating not in range(1, 6):
        raise DomainError(_("Please choose a rating from 1 to 5."), field="rating")
    if survey_rating(request) is not None:
        raise NotAllowed(_("Thank you, you already rated this request."), field="rating")
    return record(
        request,
        EventKind.SURVEY_ANSWERED,
        actor=user,
        public=False,
        note=(comment or "").strip()[:MAX_DESCRIPTION] or None,
        data={"rating": rating},
    )


def _events_since_closure(request: ServiceRequest, kind: str) -> list[RequestEvent]:
    """Events of ``kind`` recorded since the request last closed (newest last)."""
    if request.closed_at is None:
        return []
    return [e for e in request.events if e.kind == kind and e.created_at >= request.closed_at]


def survey_rating(request: ServiceRequest) -> int | None:
    """The requester's rating of the current closure, or None when not rated yet."""
    answers = _events_since_closure(request, EventKind.SURVEY_ANSWERED)
    return answers[-1].data.get("rating") if answers else None


def confirmed_fixed(request: ServiceRequest) -> bool:
    """True when the requester confirmed the current closure ("Yes, it's fixed")."""
    return bool(_events_since_closure(request, EventKind.CONFIRMED_FIXED))


def can_reopen(request: ServiceRequest, window_days: int, now: datetime | None = None) -> bool:
    """True while a closed request is still inside the reopen window."""
    if not request.is_closed or request.closed_at is None:
        return False
    return (now or utcnow()) - request.closed_at <= timedelta(days=window_days)


def confirm_fixed(
    request: ServiceRequest,
    *,
    user: User | None = None,
    device: Device | None = None,
    proven: bool = False,
) -> RequestEvent:
    """The requester says "yes, it's fixed": a public timeline entry, once per closure."""
    if not proven and not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can confirm it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("This request is still open."))
    if confirmed_fixed(request):
        raise NotAllowed(_("You already confirmed that this is fixed. Thank you!"))
    return record(request, EventKind.CONFIRMED_FIXED, actor=user)
