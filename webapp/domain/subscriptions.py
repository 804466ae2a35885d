"""Who hears what in a request's life: every subscription, in delivery order, in one place.

The request's life (``webapp.domain.lifecycle``) publishes events and imports no channel;
this module is the one place that knows both sides. Read it top to bottom to see what a
change sets off. ``create_app`` imports it once; importing it again changes nothing.

In the transaction that made the change (what they write commits or rolls back with it):

==================  ====================================================================
event               subscriber
==================  ====================================================================
ServiceChosen       routing chooses the new report's department and assignee
Created             the contacts log records the report as a contact of its channel
Created             area alerts queue the immediate alert e-mails that match it
RequestChanged      e-mail: the resident's update or closure mail, when they want it
RequestChanged      push: one outbox row per follower's subscription
RequestChanged      forwarding: a public note or reopening goes on to the city's CRM
Created             e-mail: the confirmation, when the report asked for one
Created             forwarding: the report is queued for its city CRM, if it has one
Assigned            forwarding: a request moved to another department is queued once
Recategorised       forwarding: a request moved to another service is queued once
==================  ====================================================================

After commit (nothing runs when the transaction rolls back):

==================  ====================================================================
Created             the geocoder job wakes when the report's address is still to find
==================  ====================================================================

Besides the events, two flush watchers follow every write of a request, whatever wrote it
(a report, a staff change, a bulk load): the /stats rollups and the map's grid counts.
They are connected here too, so this module lists everything a change of a request sets
off. The job runner wakes the delivery jobs (push, e-mail, forwarding) after any commit
that left them work (``webapp.jobs.runner.wake_after_commit``).
"""

from __future__ import annotations

from flask import current_app, has_app_context

from webapp.domain import events
from webapp.domain.events import AFTER_COMMIT
from webapp.domain.figures import map_grid, rollups
from webapp.domain.intake import contacts, mail_intake, routing
from webapp.domain.notifications import alerts, mail, notify
from webapp.domain.open311 import forwarding
from webapp.jobs import runner as workers
from webapp.models import GeocodeState


def route_new_report(chosen: events.ServiceChosen) -> None:
    """Routing rules choose the department of a report about to be stored."""
    routing.route(chosen.request)


def log_contact(created: events.Created) -> None:
    """Every new report is a contact of the channel it came through."""
    contacts.record_request(created.request)


def alert_the_area(created: events.Created) -> None:
    """Immediate area alerts that match the new report."""
    alerts.on_new_request(created.request)


def email_the_resident(change: events.RequestChanged) -> None:
    """The e-mail channel: the update or closure the resident chose to hear of."""
    mail.on_change(change.entry)


def push_to_followers(change: events.RequestChanged) -> None:
    """The push channel: a message to each follower's subscriptions."""
    notify.on_event(change.entry)


def pass_on_to_crm(change: events.RequestChanged) -> None:
    """A public note or reopening made here goes on to the CRM of a forwarded request."""
    forwarding.queue_update(change.entry)


def confirm_by_email(created: events.Created) -> None:
    """The confirmation (number and tracking link) when the report asked for it."""
    if created.confirm_by_email:
        mail.queue_confirmation(
            created.entry,
            in_reply_to=created.in_reply_to,
            replies=mail_intake.is_configured(current_app.config),
        )


def forward_new_report(created: events.Created) -> None:
    """A report whose service or department belongs to a city CRM is queued for it."""
    forwarding.queue(created.request)


def forward_moved_request(assigned: events.Assigned) -> None:
    """A request given to another department may now belong to a city CRM."""
    if assigned.moved:
        forwarding.queue_once(assigned.request)


def forward_recategorised(change: events.Recategorised) -> None:
    """A request moved to another service may now belong to a city CRM."""
    forwarding.queue_once(change.request)


def wake_the_geocoder(created: events.Created) -> None:
    """Look the new report's address up soon rather than at the job's next round."""
    if created.request.geocode_state == GeocodeState.PENDING and has_app_context():
        workers.kick(current_app._get_current_object(), "geocode")


def _connect() -> None:
    if events.subscriptions():
        return  # already connected in this process
    events.subscribe(events.ServiceChosen, route_new_report)
    events.subscribe(events.Created, log_contact)
    events.subscribe(events.Created, alert_the_area)
    events.subscribe(events.RequestChanged, email_the_resident)
    events.subscribe(events.RequestChanged, push_to_followers)
    events.subscribe(events.RequestChanged, pass_on_to_crm)
    events.subscribe(events.Created, confirm_by_email)
    events.subscribe(events.Created, forward_new_report)
    events.subscribe(events.Assigned, forward_moved_request)
    events.subscribe(events.Recategorised, forward_recategorised)
    events.subscribe(events.Created, wake_the_geocoder, when=AFTER_COMMIT)
    rollups.listen()
    map_grid.listen()


_connect()
