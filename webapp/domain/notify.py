"""Who hears about a change, and the message they get.

``on_event`` runs inside the transaction that made the change and writes one
NotificationOutbox row per push subscription of each follower, so a change that
rolls back sends nothing. Delivery (pywebpush) happens after commit, elsewhere.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import (
    Device,
    EventKind,
    Follow,
    NotificationOutbox,
    PushSubscription,
    RequestEvent,
    Resolution,
    Status,
)

ALWAYS = "closed"
OPTIONAL_KINDS = ("acknowledged", "in_progress", "reopened", "merged")
DEFAULT_PREFS = {kind: False for kind in OPTIONAL_KINDS}
MAX_BODY = 300


def message_kind(event: RequestEvent) -> str | None:
    """Which notification (if any) a timeline event is: closed, acknowledged, …"""
    if event.to_status == Status.CLOSED:
        return ALWAYS
    if event.kind == EventKind.ACKNOWLEDGED:
        return "acknowledged"
    if event.kind == EventKind.STATUS_CHANGED and event.to_status == Status.IN_PROGRESS:
        return "in_progress"
    if event.kind == EventKind.REOPENED:
        return "reopened"
    if event.kind == EventKind.MERGED:
        return "merged"
    return None


def resolution_label(resolution: str | None) -> str:
    """Plain words for a resolution."""
    labels = {
        Resolution.FIXED: _("Fixed"),
        Resolution.DUPLICATE: _("Closed as a duplicate"),
        Resolution.REFERRED: _("Referred elsewhere"),
        Resolution.CANNOT_LOCATE: _("Could not be found"),
        Resolution.NO_ACTION_NEEDED: _("No action needed"),
    }
    return labels.get(resolution, _("Closed"))


def build_payload(event: RequestEvent, kind: str, navigate: str) -> dict:
    """The Declarative Web Push message for an event (the service worker reads it too)."""
    request = event.request
    name = request.service.name
    if kind == ALWAYS:
        title = _(
            "%(service)s %(id)s: %(outcome)s",
            service=name,
            id=request.public_id,
            outcome=resolution_label(request.resolution),
        )
        body = event.note or ""
    elif kind == "acknowledged":
        title = _("%(service)s %(id)s was received by the city", service=name, id=request.public_id)
        body = event.note or _("A crew will look at it.")
    elif kind == "in_progress":
        title = _("Work has started on %(service)s %(id)s", service=name, id=request.public_id)
        body = event.note or ""
    elif kind == "reopened":
        title = _("%(service)s %(id)s was reopened", service=name, id=request.public_id)
        body = event.note or ""
    else:
        title = _(
            "%(service)s %(id)s was combined with a similar report",
            service=name,
            id=request.public_id,
        )
        body = event.note or ""
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1] + "…"
    return {
        "web_push": 8030,
        "notification": {
            "title": title,
            "body": body,
            "navigate": navigate,
            "tag": request.public_id,
        },
    }


def wants(device_prefs: dict | None, kind: str) -> bool:
    """Closure always; other kinds only when the device asked for them."""
    if kind == ALWAYS:
        return True
    return bool({**DEFAULT_PREFS, **(device_prefs or {})}.get(kind))


def _subscriptions_for(follow: Follow) -> list[tuple[PushSubscription, dict]]:
    conditions = []
    if follow.user_id is not None:
        conditions.append(PushSubscription.user_id == follow.user_id)
    if follow.device_id is not None:
        conditions.append(PushSubscription.device_id == follow.device_id)
    if not conditions:
        return []
    found = []
    for subscription in db.session.scalars(select(PushSubscription).where(or_(*conditions))):
        prefs = {}
        if subscription.device_id is not None:
            device = db.session.get(Device, subscription.device_id)
            prefs = device.notify_prefs if device else {}
        found.append((subscription, prefs))
    return found


def on_event(event: RequestEvent) -> int:
    """Queue push messages for everyone following the event's request; returns how many."""
    kind = message_kind(event)
    if kind is None or not event.public and kind != ALWAYS:
        return 0
    request = event.request
    navigate = f"/requests/{request.public_id}"
    queued = 0
    seen: set[int] = set()
    follows = db.session.scalars(select(Follow).where(Follow.request_id == request.id))
    for follow in follows:
        for subscription, prefs in _subscriptions_for(follow):
            if subscription.id in seen or not wants(prefs, kind):
                continue
            seen.add(subscription.id)
            db.session.add(
                NotificationOutbox(
                    subscription_id=subscription.id,
                    request_id=request.id,
                    event_id=event.id,
                    payload=build_payload(event, kind, navigate),
                    topic=request.public_id.replace("-", "")[:32],
                    urgency="normal" if kind == ALWAYS else "low",
                )
            )
            queued += 1
    return queued
