"""What happens in a request's life, and the small registry that delivers it.

The request's life (``webapp.domain.lifecycle``) publishes these events and knows
nothing of who listens. Notifications, forwarding, area alerts, routing and the contacts
log subscribe; every subscription is listed in ``webapp.domain.subscriptions``.

Two moments of delivery:

- **in the transaction** (the default): the subscriber runs at once, inside the caller's
  transaction, so what it writes (outbox rows, a forwarding, a contact) commits or rolls
  back with the change itself, and a subscriber that fails fails the change;
- **after commit**: the subscriber runs once the transaction that published the event
  has committed (nothing runs when it rolls back), for effects that must not hold the
  change up, such as waking a background job.

Subscribers are called in the order they were subscribed; a subscriber of a class also
hears its subclasses (a subscriber of ``RequestChanged`` hears every timeline entry).

Why a registry of our own rather than blinker's signals: the events are typed classes
(a subscriber of the base class hears them all), delivery order is part of the contract,
the after-commit moment is tied to our database session, and ``subscriptions()`` lists
exactly who hears what for the documentation and the tests. That is fifty lines; blinker
would still need all of it around its signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as orm_event

from webapp.models import RequestEvent, ServiceRequest, User
from webapp.plumbing.extensions import db

IN_TRANSACTION = "in transaction"
AFTER_COMMIT = "after commit"


# --- the events --------------------------------------------------------------------


@dataclass
class ServiceChosen:
    """A new report's service was chosen and the report is about to be stored: routing
    answers by setting its department and assignee."""

    request: ServiceRequest


@dataclass
class RequestChanged:
    """An entry was written on a request's timeline (the base of the events below;
    ``entry.kind`` says which kind). Entries that no more specific event names
    (a survey answer, a confirmation that it is fixed, a supporter's comment, a note
    from the city's CRM about its forwarding) are published as this class."""

    entry: RequestEvent

    @property
    def request(self) -> ServiceRequest:
        """The request the entry is about."""
        return self.entry.request


@dataclass
class Created(RequestChanged):
    """A new request was stored. ``confirm_by_email`` asks for the confirmation e-mail
    to the address given with it; ``in_reply_to`` makes that an auto-reply."""

    confirm_by_email: bool = False
    in_reply_to: str | None = None


@dataclass
class Transitioned(RequestChanged):
    """The request moved along the workflow (acknowledged, in progress, closed)."""


@dataclass
class Noted(RequestChanged):
    """A public or private note was added."""


@dataclass
class Assigned(RequestChanged):
    """The request was given to a department and/or a person; ``moved`` is true when
    the department changed; ``newly_assigned`` is the person who was just given it (None
    when the assignee did not change or was taken off)."""

    moved: bool = False
    newly_assigned: User | None = None


@dataclass
class Recategorised(RequestChanged):
    """The request moved to another service and was routed again."""


@dataclass
class Moved(RequestChanged):
    """Staff put the request on the map (it had no location, or a wrong one)."""


@dataclass
class Merged(RequestChanged):
    """Another request was merged into this one (the entry is on the survivor)."""


@dataclass
class Reopened(RequestChanged):
    """The requester said "not fixed": the request is back in the queue."""


# --- the registry ------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """Who hears which event, and when."""

    event: type
    subscriber: Callable[[Any], object]
    when: str = IN_TRANSACTION


_SUBSCRIPTIONS: list[Subscription] = []
_PENDING = "civic311_after_commit"


def subscribe(event_type: type, subscriber: Callable[[Any], object], *, when: str = IN_TRANSACTION):
    """Let ``subscriber(event)`` hear every published ``event_type`` (and subclasses)."""
    if when not in (IN_TRANSACTION, AFTER_COMMIT):
        raise ValueError(f"unknown moment of delivery: {when!r}")
    _SUBSCRIPTIONS.append(Subscription(event_type, subscriber, when))


def subscriptions() -> list[Subscription]:
    """Every subscription, in delivery order."""
    return list(_SUBSCRIPTIONS)


def publish(happened: object) -> object:
    """Deliver ``happened`` to its in-transaction subscribers now, and keep it for its
    after-commit subscribers; returns the event (subscribers may have answered on it)."""
    later = []
    for item in _SUBSCRIPTIONS:
        if isinstance(happened, item.event):
            if item.when == IN_TRANSACTION:
                item.subscriber(happened)
            else:
                later.append(item.subscriber)
    if later:
        db.session.info.setdefault(_PENDING, []).extend(
            (subscriber, happened) for subscriber in later
        )
    return happened


def _deliver_after_commit(session) -> None:
    for subscriber, happened in session.info.pop(_PENDING, []):
        subscriber(happened)


def _forget(session) -> None:
    session.info.pop(_PENDING, None)


orm_event.listen(db.session, "after_commit", _deliver_after_commit)
orm_event.listen(db.session, "after_rollback", _forget)
