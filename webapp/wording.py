"""Plain words for statuses, resolutions and timeline entries, from the glossary
(``webapp.domain.glossary``) so pages, notifications and the API say the same thing."""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.domain.glossary import resolution_word as resolution_label
from webapp.domain.glossary import status_word
from webapp.models import EventKind, RequestEvent, ServiceRequest, Status


def status_label(request: ServiceRequest) -> str:
    """What a resident should read for a request's status."""
    if request.detailed_status == Status.CLOSED:
        return resolution_label(request.resolution)
    label = status_word(request.detailed_status)
    return _("Reopened — %(label)s", label=label) if request.reopened else label


def event_label(event: RequestEvent) -> str:
    """A timeline entry's headline."""
    if event.kind == EventKind.STATUS_CHANGED and event.to_status == Status.CLOSED:
        return resolution_label(event.data.get("resolution"))
    if event.kind == EventKind.STATUS_CHANGED and event.to_status == Status.IN_PROGRESS:
        return _("Work started")
    if event.kind == EventKind.STATUS_CHANGED and event.to_status == Status.ACKNOWLEDGED:
        return _("Back in the queue")
    labels = {
        EventKind.CREATED: _("Report received"),
        EventKind.ACKNOWLEDGED: status_word(Status.ACKNOWLEDGED),
        EventKind.ASSIGNED: _("Assigned"),
        EventKind.PUBLIC_NOTE: _("Note from the city"),
        EventKind.PRIVATE_NOTE: _("Private note"),
        EventKind.MERGED: _("Similar report combined into this one"),
        EventKind.REOPENED: _("Reopened: not fixed"),
        EventKind.SURVEY_ANSWERED: _("Rated"),
        EventKind.CONFIRMED_FIXED: _("Confirmed fixed by the resident"),
        EventKind.SUPPORTER_COMMENT: _("A neighbor reported this too"),
    }
    return labels.get(event.kind, event.kind)
