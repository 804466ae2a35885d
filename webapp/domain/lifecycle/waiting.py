"""Needs information: staff ask the resident a question and the service-level clock stands
until the resident answers (or staff say the answer came another way).

The question is a public timeline entry (the resident reads it on the request's page);
the answer is a staff-only entry, since a resident's reply may carry personal details.
The clock itself is ``service_levels.pause`` / ``service_levels.resume``.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from webapp.domain import service_levels
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import timeline
from webapp.models import Device, EventKind, RequestEvent, ServiceRequest, User, utcnow

MAX_TEXT = timeline.MAX_DESCRIPTION


def _clean(text: str | None, field: str) -> str:
    clean = timeline.normalise_text(text)
    if not clean:
        raise DomainError(_("Please write something first."), field=field)
    if len(clean) > MAX_TEXT:
        raise DomainError(_("The text is too long."), field=field)
    return clean


def is_waiting(request: ServiceRequest) -> bool:
    """True while the city waits on the resident's answer."""
    return request.sla_paused_at is not None and not request.is_closed


def question(request: ServiceRequest) -> RequestEvent | None:
    """The question the resident is asked, while the city waits on them."""
    if not is_waiting(request):
        return None
    asked = [e for e in request.events if e.kind == EventKind.INFO_REQUESTED]
    return asked[-1] if asked else None


def ask_resident(
    request: ServiceRequest, actor: User, text: str | None, now: datetime | None = None
) -> RequestEvent:
    """Staff ask the resident for information; the request's clock stands from now."""
    if request.is_closed:
        raise NotAllowed(_("A closed request cannot wait on the resident."))
    if is_waiting(request):
        raise NotAllowed(_("This request is already waiting on the resident."))
    clean = _clean(text, "question")
    service_levels.pause(request, now or utcnow())
    return timeline.record(
        request, EventKind.INFO_REQUESTED, actor=actor, note=clean, public=True
    )


def resident_answers(
    request: ServiceRequest,
    text: str | None,
    *,
    user: User | None = None,
    device: Device | None = None,
    now: datetime | None = None,
) -> RequestEvent:
    """The requester answers the city's question: the clock runs again from now."""
    if not requests_domain.is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can answer."), status=403)
    if not is_waiting(request):
        raise NotAllowed(_("The city is not waiting for an answer on this request."))
    clean = _clean(text, "answer")
    service_levels.resume(request, now or utcnow())
    return timeline.record(
        request, EventKind.INFO_PROVIDED, actor=user, note=clean, public=False
    )


def resume_clock(
    request: ServiceRequest, actor: User, note: str | None = None, now: datetime | None = None
) -> RequestEvent:
    """Staff end the wait themselves (the answer came by phone, or never will)."""
    if not is_waiting(request):
        raise NotAllowed(_("The city is not waiting for an answer on this request."))
    service_levels.resume(request, now or utcnow())
    clean = timeline.normalise_text(note) or None
    return timeline.record(
        request, EventKind.INFO_PROVIDED, actor=actor, note=clean, public=False,
        data={"by": "staff"},
    )
