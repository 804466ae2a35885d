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


_STATUS_LABELS: dict[str, dict[tuple, str]] = {}


def status_labels():
    """A ``(detailed_status, resolution, reopened) -> label`` lookup for this locale.

    A map page shows a hundred requests in a handful of states; each state is translated
    once per process and locale instead of once per row, keeping gettext (and even the
    locale lookup) off the per-row path.
    """
    locale = str(get_locale())
    known = _STATUS_LABELS.setdefault(locale, {})

    def label(detailed_status: str, resolution: str | None, reopened: bool) -> str:
        key = (detailed_status, resolution, bool(reopened))
        found = known.get(key)
        if found is None:
            stand_in = ServiceRequest(
                detailed_status=detailed_status, resolution=resolution, reopened=bool(reopened)
            )
            found = known[key] = status_label(stand_in)
        return found

    return label


def status_label_for(detailed_status: str, resolution: str | None, reopened: bool) -> str:
    """``status_label`` from the bare columns, through the per-locale cache."""
    return status_labels()(detailed_status, resolution, reopened)
