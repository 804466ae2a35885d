"""The glossary: one name for each status, resolution and kind of update, used by every
page, notification and API description, so a resident never meets the same state under
two names ("received", "seen", "acknowledged")."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.models import Resolution, Status

# Marked for translation once; each call translates only the word it returns.
_STATUS_WORDS = {
    Status.SUBMITTED: _l("Received"),
    Status.ACKNOWLEDGED: _l("Seen by the city"),
    Status.IN_PROGRESS: _l("Work in progress"),
    Status.CLOSED: _l("Closed"),
}
_RESOLUTION_WORDS = {
    Resolution.FIXED: _l("Fixed"),
    Resolution.DUPLICATE: _l("Closed as a duplicate"),
    Resolution.REFERRED: _l("Referred elsewhere"),
    Resolution.CANNOT_LOCATE: _l("Could not be found"),
    Resolution.NO_ACTION_NEEDED: _l("No action needed"),
}


def status_word(status: str | None) -> str:
    """The status as residents read it everywhere."""
    return str(_STATUS_WORDS.get(status, _STATUS_WORDS[Status.SUBMITTED]))


def resolution_word(resolution: str | None) -> str:
    """How a closed request ended."""
    return str(_RESOLUTION_WORDS.get(resolution, _STATUS_WORDS[Status.CLOSED]))


def status_meaning(status: str | None, *, own: bool) -> str:
    """One sentence on what the status means, for the requester (``own``) or anyone else."""
    if status == Status.IN_PROGRESS:
        return _("A crew is working on it.")
    if status == Status.ACKNOWLEDGED:
        if own:
            return _("The city has seen your report and will plan the work.")
        return _("The city has seen this report and will plan the work.")
    if own:
        return _("The city has your report. It will be looked at soon.")
    return _("The city has this report. It will be looked at soon.")
