"""One table between our statuses and the extended Open311 statuses FixMyStreet speaks.

GeoReport v2 only knows ``open`` and ``closed``; a client that maps ``closed`` to
"fixed" tells residents a request was fixed when the city closed it as a duplicate,
referred it elsewhere or could not find it. mySociety's extension carries the
outcome instead. Outgoing (what we answer) and incoming (what a city CRM or
FixMyStreet tells us) both read this table, so the two directions cannot drift.

=========================  ============================  ===================
Ours (status/resolution)   Extended status (outgoing)    Open311 ``status``
=========================  ============================  ===================
submitted                  OPEN                          open
acknowledged               INVESTIGATING                 open
in_progress                IN_PROGRESS                   open
closed / fixed             FIXED                         closed
closed / duplicate         DUPLICATE                     closed
closed / referred          NOT_COUNCILS_RESPONSIBILITY   closed
closed / cannot_locate     NO_FURTHER_ACTION             closed
closed / no_action_needed  NO_FURTHER_ACTION             closed
=========================  ============================  ===================

``external_status_code`` carries our own word (``cannot_locate``, ``in_progress``…)
so the two kinds of NO_FURTHER_ACTION stay apart for a client that wants them.

Incoming, a status is read case-insensitively with ``_`` or spaces; unknown words
are refused by the caller. ``CLOSED`` alone says nothing about the outcome: it is
taken as ``fixed``, as FixMyStreet does for servers without extended statuses, and
the CRM's own note is what the resident reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import Resolution, Status

OPEN = "OPEN"
CLOSED = "CLOSED"
REOPEN = "REOPEN"

OUTGOING_OPEN = {
    Status.SUBMITTED: OPEN,
    Status.ACKNOWLEDGED: "INVESTIGATING",
    Status.IN_PROGRESS: "IN_PROGRESS",
}
OUTGOING_CLOSED = {
    Resolution.FIXED: "FIXED",
    Resolution.DUPLICATE: "DUPLICATE",
    Resolution.REFERRED: "NOT_COUNCILS_RESPONSIBILITY",
    Resolution.CANNOT_LOCATE: "NO_FURTHER_ACTION",
    Resolution.NO_ACTION_NEEDED: "NO_FURTHER_ACTION",
}


@dataclass(frozen=True)
class Incoming:
    """What an incoming status asks of a request: a workflow status and, when
    closing, a resolution; ``reopen`` when it asks to open a closed request again."""

    status: str
    resolution: str | None = None
    reopen: bool = False


INCOMING = {
    "OPEN": Incoming(Status.ACKNOWLEDGED, reopen=True),
    "REOPEN": Incoming(Status.ACKNOWLEDGED, reopen=True),
    "INVESTIGATING": Incoming(Status.ACKNOWLEDGED),
    "INTERNAL_REFERRAL": Incoming(Status.ACKNOWLEDGED),
    "IN_PROGRESS": Incoming(Status.IN_PROGRESS),
    "ACTION_SCHEDULED": Incoming(Status.IN_PROGRESS),
    "FIXED": Incoming(Status.CLOSED, Resolution.FIXED),
    "CLOSED": Incoming(Status.CLOSED, Resolution.FIXED),
    "DUPLICATE": Incoming(Status.CLOSED, Resolution.DUPLICATE),
    "NOT_COUNCILS_RESPONSIBILITY": Incoming(Status.CLOSED, Resolution.REFERRED),
    "NO_FURTHER_ACTION": Incoming(Status.CLOSED, Resolution.NO_ACTION_NEEDED),
}


def extended_status(detailed_status: str | None, resolution: str | None) -> str:
    """The extended status (``FIXED``, ``DUPLICATE``…) of a status and resolution."""
    if detailed_status == Status.CLOSED:
        return OUTGOING_CLOSED.get(resolution, CLOSED)
    return OUTGOING_OPEN.get(detailed_status, OPEN)


def basic_status(detailed_status: str | None) -> str:
    """GeoReport v2's own ``open`` or ``closed``."""
    return "closed" if detailed_status == Status.CLOSED else "open"


def external_status_code(detailed_status: str | None, resolution: str | None) -> str:
    """Our own word for where the request stands: the resolution when closed."""
    if detailed_status == Status.CLOSED and resolution:
        return str(resolution)
    return str(detailed_status or Status.SUBMITTED)


def normalise(raw: str | None) -> str:
    """``in progress`` / ``in_progress`` / ``IN_PROGRESS`` → ``IN_PROGRESS``."""
    return "_".join((raw or "").strip().upper().replace("-", " ").split()).replace(" ", "_")


def incoming(raw: str | None) -> Incoming | None:
    """What an incoming status word means for us, or None for a word we do not know."""
    return INCOMING.get(normalise(raw))


def known_statuses() -> list[str]:
    """Every status word we accept, for error messages and documentation."""
    return sorted(INCOMING)
