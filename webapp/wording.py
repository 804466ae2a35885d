"""Plain words for statuses, resolutions and timeline entries, from the glossary
(``webapp.domain.glossary``) so pages, notifications and the API say the same thing."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.content_i18n import localized, localized_values
from webapp.domain.glossary import resolution_word as resolution_label
from webapp.domain.glossary import status_word
from webapp.models import EventKind, RequestEvent, ServiceRequest, Status

# Marked for translation once; each call translates only the label it returns.
_EVENT_LABELS = {
    EventKind.CREATED: _l("Report received"),
    EventKind.ASSIGNED: _l("Assigned"),
    EventKind.PUBLIC_NOTE: _l("Note from the city"),
    EventKind.PRIVATE_NOTE: _l("Private note"),
    EventKind.MERGED: _l("Similar report combined into this one"),
    EventKind.REOPENED: _l("Reopened: not fixed"),
    EventKind.SURVEY_ANSWERED: _l("Rated"),
    EventKind.CONFIRMED_FIXED: _l("Confirmed fixed by the resident"),
    EventKind.SUPPORTER_COMMENT: _l("A neighbor reported this too"),
    EventKind.INFO_REQUESTED: _l("The city asked for information"),
    EventKind.INFO_PROVIDED: _l("Answer from the resident"),
}


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
    if event.kind == EventKind.INFO_PROVIDED and event.data.get("by") == "staff":
        return _("The clock runs again")
    if event.kind == EventKind.ASSIGNED and event.data.get("assignee"):
        return _("Assigned to %(name)s", name=event.data["assignee"])
    if event.kind == EventKind.ACKNOWLEDGED:
        return status_word(Status.ACKNOWLEDGED)
    label = _EVENT_LABELS.get(event.kind)
    return str(label) if label is not None else event.kind


def status_choice(choice: str) -> str:
    """A queue filter's status choice in words ("open", "all" and the glossary's)."""
    words = {"open": _("All open"), "all": _("Everything")}
    return words.get(choice) or status_word(choice)


def sort_choice(choice: str) -> str:
    """A queue sort order in words."""
    words = {
        "oldest": _("Oldest first"),
        "newest": _("Newest first"),
        "due": _("Due soonest"),
        "updated": _("Recently updated"),
        "supporters": _("Most supporters"),
    }
    return words.get(choice, choice)


def channel_label(channel: str | None) -> str:
    """How a request reached the city, in words."""
    words = {
        "pwa": _("the app"),
        "web": _("the website"),
        "liaison": _("a neighborhood liaison"),
        "open311": _("another app (Open311)"),
        "phone": _("a phone call"),
        "walk_in": _("a visit in person"),
        "email": _("an e-mail"),
        "chat": _("a live chat"),
        "text": _("a text message"),
    }
    return words.get(channel or "", _("unknown"))


def photo_kind_label(kind: str | None) -> str:
    """What a photo shows, in words."""
    words = {
        "report": _("Reported"),
        "closure": _("After the work"),
        "reopen": _("Still not fixed"),
        "supporter": _("From a neighbor"),
        "comment": _("With a comment"),
    }
    return words.get(kind or "", _("Photo"))


def datatype_label(datatype: str | None) -> str:
    """An Open311 attribute datatype as an administrator would say it."""
    words = {
        "string": _("Short text"),
        "text": _("Longer text"),
        "number": _("Number"),
        "datetime": _("Date and time"),
        "singlevaluelist": _("Pick one from a list"),
        "multivaluelist": _("Pick any from a list"),
    }
    return words.get(datatype or "", datatype or "")


def answer_lines(request: ServiceRequest) -> list[tuple[str, str]]:
    """A request's answers to its service's questions as (question, answer) in words."""
    answers = request.attribute_values or {}
    lines = []
    attributes = {a.code: a for a in request.service.attributes} if request.service else {}
    for code, value in answers.items():
        attribute = attributes.get(code)
        question = (localized(attribute, "description") or code) if attribute else code
        choices = localized_values(attribute) if attribute else []
        names = {str(v.get("key")): v.get("name") for v in choices}
        values = value if isinstance(value, list) else [value]
        lines.append((question, ", ".join(str(names.get(str(v), v)) for v in values)))
    return lines


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
