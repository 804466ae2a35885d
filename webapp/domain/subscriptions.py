"""Who hears what in a request's life: every subscription, in delivery order, in one place.

The request's life (``webapp.domain.lifecycle``) publishes events and imports no channel;
this module is the one place that knows both sides. Read ``SUBSCRIPTIONS`` top to bottom
to see what a change sets off. ``create_app`` imports it once; importing it again
changes nothing.

In the transaction that made the change, what a subscriber writes commits or rolls back
with the change itself; after commit, nothing runs when the transaction rolled back.

Besides the events, two flush watchers follow every write of a request, whatever wrote it
(a report, a staff change, a bulk load): the /stats rollups and the map's grid counts.
They are connected here too, so this module lists everything a change of a request sets
off. The job runner wakes the delivery jobs (push, e-mail, forwarding) after any commit
that left them work (``webapp.jobs.runner.wake_after_commit``).
"""

from __future__ import annotations

from flask import current_app, has_app_context

from webapp.domain import events
from webapp.domain.events import AFTER_COMMIT, IN_TRANSACTION
from webapp.domain.figures import map_grid, rollups
from webapp.domain.intake import contacts, mailbox, routing
from webapp.domain.notifications import alerts, staff_alerts, text
from webapp.domain.notifications.email import email_channel, mail_queue
from webapp.domain.notifications.push import push_channel
from webapp.domain.open311.forwarding import queueing
from webapp.jobs import runner as workers
from webapp.models import GeocodeState


def alert_the_assignee(assigned: events.Assigned) -> None:
    """A staff member newly given a request gets one message (never for taking it oneself)."""
    if assigned.newly_assigned is not None:
        staff_alerts.on_assigned(assigned.entry, assigned.newly_assigned, assigned.entry.actor)


def confirm_by_email(created: events.Created) -> None:
    """The confirmation (number and tracking link) when the report asked for it."""
    if created.confirm_by_email:
        mail_queue.queue_confirmation(
            created.entry,
            in_reply_to=created.in_reply_to,
            replies=mailbox.is_configured(current_app.config),
        )


def forward_moved_request(assigned: events.Assigned) -> None:
    """A request given to another department may now belong to a city CRM."""
    if assigned.moved:
        queueing.queue_once(assigned.request)


def wake_the_geocoder(created: events.Created) -> None:
    """Look the new report's address up soon rather than at the job's next round."""
    if created.request.geocode_state == GeocodeState.PENDING and has_app_context():
        workers.kick(current_app._get_current_object(), "geocode")


# (event, when, what the subscriber does, subscriber). The subscribers look their rule up
# when they run, so a rule replaced in a test is the one called. Each notification channel
# hears a change through its ``Channel.hears`` (see ``notifications/outbox.py``).
SUBSCRIPTIONS = (
    (
        events.ServiceChosen,
        IN_TRANSACTION,
        "routing chooses the new report's department and assignee",
        lambda chosen: routing.route(chosen.request),
    ),
    (
        events.Created,
        IN_TRANSACTION,
        "the contacts log records the report as a contact of its channel",
        lambda created: contacts.record_request(created.request),
    ),
    (
        events.Created,
        IN_TRANSACTION,
        "area alerts queue the immediate alert e-mails that match it",
        lambda created: alerts.on_new_request(created.request),
    ),
    (
        events.RequestChanged,
        IN_TRANSACTION,
        "e-mail: the resident's update or closure mail, when they want it",
        lambda change: email_channel.CHANNEL.hears(change.entry),
    ),
    (
        events.RequestChanged,
        IN_TRANSACTION,
        "push: one outbox row per follower's subscription",
        lambda change: push_channel.CHANNEL.hears(change.entry),
    ),
    (
        events.RequestChanged,
        IN_TRANSACTION,
        "text: the closure or the city's question, to a number that reported by text",
        lambda change: text.on_change(change.entry),
    ),
    (
        events.RequestChanged,
        IN_TRANSACTION,
        "forwarding: a public note or reopening goes on to the city's CRM",
        lambda change: queueing.queue_update(change.entry),
    ),
    (
        events.Created,
        IN_TRANSACTION,
        "e-mail: the confirmation, when the report asked for one",
        confirm_by_email,
    ),
    (
        events.Created,
        IN_TRANSACTION,
        "forwarding: the report is queued for its city CRM, if it has one",
        lambda created: queueing.queue(created.request),
    ),
    (
        events.Assigned,
        IN_TRANSACTION,
        "forwarding: a request moved to another department is queued once",
        forward_moved_request,
    ),
    (
        events.Assigned,
        IN_TRANSACTION,
        "staff alerts: whoever was just given the request hears of it (push or e-mail)",
        alert_the_assignee,
    ),
    (
        events.Recategorised,
        IN_TRANSACTION,
        "forwarding: a request moved to another service is queued once",
        lambda change: queueing.queue_once(change.request),
    ),
    (
        events.Created,
        AFTER_COMMIT,
        "the geocoder job wakes when the report's address is still to find",
        wake_the_geocoder,
    ),
)


def _connect() -> None:
    if events.subscriptions():
        return  # already connected in this process
    for event_type, when, _what, subscriber in SUBSCRIPTIONS:
        events.subscribe(event_type, subscriber, when=when)
    rollups.listen()
    map_grid.listen()


_connect()
