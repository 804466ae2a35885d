"""Plain words for statuses, resolutions and timeline entries, through gettext."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.domain.notify import resolution_label
from webapp.models import EventKind, RequestEvent, ServiceRequest, Status


def status_label(request: ServiceRequest) -> str:
    """What a resident should read for a request's status."""
    if request.detailed_status == Status.CLOSED:
        return resolution_label(request.resolution)
    labels = {
        Status.SUBMITTED: _("Received"),
        Status.ACKNOWLEDGED: _("Seen by the city"),
        Status.IN_PROGRESS: _("Work in progress"),
    }
    label = labels.get(request.detailed_status, request.detailed_status)
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
        EventKind.ACKNOWLEDGED: _("Seen by the city"),
        EventKind.ASSIGNED: _("Assigned"),
        EventKind.PUBLIC_NOTE: _("Note from the city"),
        EventKind.PRIVATE_NOTE: _("Private note"),
        EventKind.MERGED: _("Similar report combined into this one"),
        EventKind.REOPENED: _("Reopened: not fixed"),
        EventKind.SURVEY_ANSWERED: _("Rated"),
        EventKind.CONFIRMED_FIXED: _("Confirmed fixed by the resident"),
    }
    return labels.get(event.kind, event.kind)


_STATUS_LABELS: dict[tuple, str] = {}


def status_label_for(detailed_status: str, resolution: str | None, reopened: bool) -> str:
    """``status_label`` from the bare columns, remembered per locale.

    A map page shows a hundred requests in a handful of states; translating each
    state once per process instead of once per row keeps gettext off the hot path.
    """
    key = (str(get_locale()), detailed_status, resolution, bool(reopened))
    label = _STATUS_LABELS.get(key)
    if label is None:
        stand_in = ServiceRequest(
            detailed_status=detailed_status, resolution=resolution, reopened=bool(reopened)
        )
        label = _STATUS_LABELS[key] = status_label(stand_in)
    return label
