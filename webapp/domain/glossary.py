"""The glossary: one name for each status, resolution and kind of update, used by every
page, notification and API description, so a resident never meets the same state under
two names ("received", "seen", "acknowledged")."""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.models import Resolution, Status


def status_word(status: str | None) -> str:
    """The status as residents read it everywhere."""
    words = {
        Status.SUBMITTED: _("Received"),
        Status.ACKNOWLEDGED: _("Seen by the city"),
        Status.IN_PROGRESS: _("Work in progress"),
        Status.CLOSED: _("Closed"),
    }
    return words.get(status, _("Received"))


def resolution_word(resolution: str | None) -> str:
    """How a closed request ended."""
    words = {
        Resolution.FIXED: _("Fixed"),
        Resolution.DUPLICATE: _("Closed as a duplicate"),
        Resolution.REFERRED: _("Referred elsewhere"),
        Resolution.CANNOT_LOCATE: _("Could not be found"),
        Resolution.NO_ACTION_NEEDED: _("No action needed"),
    }
    return words.get(resolution, _("Closed"))


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
