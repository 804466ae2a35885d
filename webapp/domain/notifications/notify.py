"""Who hears about a change, and the message they get; push subscriptions and prefs.

``audience_kind`` says which message (if any) a timeline entry is for the people who
follow the request; every channel asks it. ``on_event`` is the push channel's
subscriber: it runs inside the transaction that made the change and writes one
NotificationOutbox row per push subscription of each follower, so a change that rolls
back sends nothing. E-mail (``email.mail_queue.on_change``) and area alerts subscribe on their own
(``webapp.domain.subscriptions``). Delivery happens after commit, in the job runner.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from webapp.content_i18n import localized
from webapp.domain import glossary
from webapp.domain.errors import DomainError
from webapp.domain.notifications import push_endpoints
from webapp.i18n import recipient_locale, render_in_locale
from webapp.models import (
    Device,
    EventKind,
    Follow,
    NotificationOutbox,
    PushSubscription,
    RequestEvent,
    Status,
    User,
)
from webapp.plumbing.extensions import db

ALWAYS = "closed"
# The city asks the resident something and its clock waits on them: always told.
QUESTION = "question"
OPTIONAL_KINDS = ("acknowledged", "in_progress", "reopened", "merged")
DEFAULT_PREFS = {kind: False for kind in OPTIONAL_KINDS}
MAX_BODY = 300
TTL_SECONDS = 4 * 24 * 3600


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
    if event.kind == EventKind.INFO_REQUESTED:
        return QUESTION
    return None


def resolution_label(resolution: str | None) -> str:
    """Plain words for a resolution (the glossary's)."""
    return glossary.resolution_word(resolution)


def build_payload(event: RequestEvent, kind: str, navigate: str) -> dict:
    """The Declarative Web Push message for an event (the service worker reads it too)."""
    request = event.request
    name = localized(request.service, "name")
    if kind == ALWAYS:
        title = _(
            "%(service)s %(id)s: %(outcome)s",
            service=name,
            id=request.public_id,
            outcome=resolution_label(request.resolution),
        )
        body = event.note or ""
    elif kind == "acknowledged":
        title = _(
            "%(service)s %(id)s: %(status)s",
            service=name,
            id=request.public_id,
            status=glossary.status_word(Status.ACKNOWLEDGED),
        )
        body = event.note or _("A crew will look at it.")
    elif kind == "in_progress":
        title = _("Work has started on %(service)s %(id)s", service=name, id=request.public_id)
        body = event.note or ""
    elif kind == QUESTION:
        title = _(
            "The city needs information about %(service)s %(id)s", service=name, id=request.public_id
        )
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
    """Closure and the city's questions always; other kinds only when the device asked."""
    if kind in (ALWAYS, QUESTION):
        return True
    return bool({**DEFAULT_PREFS, **(device_prefs or {})}.get(kind))


def _subscriptions_for(follow: Follow) -> list[tuple[PushSubscription, dict, str | None]]:
    """A follower's subscriptions with the device's preferences and the reader's language.

    The language is the account's choice, else the device's (set by the switcher, or
    when the browser subscribed): the person who will read it, never the caller.
    """
    conditions = []
    if follow.user_id is not None:
        conditions.append(PushSubscription.user_id == follow.user_id)
    if follow.device_id is not None:
        conditions.append(PushSubscription.device_id == follow.device_id)
    if not conditions:
        return []
    found = []
    for subscription in db.session.scalars(select(PushSubscription).where(or_(*conditions))):
        device = db.session.get(Device, subscription.device_id) if subscription.device_id else None
        user = db.session.get(User, subscription.user_id) if subscription.user_id else None
        prefs = (device and device.notify_prefs) or {}
        found.append((subscription, prefs, recipient_locale(user, device)))
    return found


def _payload_in(locale: str | None, event: RequestEvent, kind: str, navigate: str) -> dict:
    """The payload in the recipient's language (the app's default when unknown).

    Forcing the locale also keeps gettext away from the request: status changes are
    made from the CLI and workers too, where there is no browser to ask.
    """
    return render_in_locale(locale, lambda: build_payload(event, kind, navigate))


def is_requesters(follow: Follow, request) -> bool:
    """True when the follow is the requester's own (by account, or by device when anonymous)."""
    if follow.user_id is not None and follow.user_id == request.requester_id:
        return True
    return (
        request.requester_id is None
        and follow.device_id is not None
        and follow.device_id == request.device_id
    )


def audience_kind(event: RequestEvent) -> str | None:
    """The message kind a timeline entry is for the request's followers, or None when
    they hear nothing of it (a private entry is told only when it closes the request)."""
    kind = message_kind(event)
    if kind is None or not event.public and kind != ALWAYS:
        return None
    return kind


def follower_prefs(follow: Follow) -> dict | None:
    """The optional updates a follower's device asked for (the closure always goes)."""
    device = db.session.get(Device, follow.device_id) if follow.device_id else None
    return device.notify_prefs if device else None


def follower_locale(follow: Follow) -> str | None:
    """A follower reads in their account's or device's language, else the one they followed in."""
    user = db.session.get(User, follow.user_id) if follow.user_id else None
    device = db.session.get(Device, follow.device_id) if follow.device_id else None
    return recipient_locale(user, device) or follow.locale


def on_event(event: RequestEvent) -> int:
    """Queue push messages for everyone following the event's request; returns how many.

    One row per subscription (a person following from two phones gets both), written
    in the caller's transaction so a change that rolls back sends nothing.
    """
    kind = audience_kind(event)
    if kind is None:
        return 0
    request = event.request
    navigate = f"/requests/{request.public_id}"
    payloads: dict[str | None, dict] = {}
    queued = 0
    seen: set[int] = set()
    follows = db.session.scalars(select(Follow).where(Follow.request_id == request.id))
    for follow in follows:
        if not request.service.public and not is_requesters(follow, request):
            continue  # a private service's news reaches only whoever made the request
        for subscription, prefs, locale in _subscriptions_for(follow):
            if subscription.id in seen or not wants(prefs, kind):
                continue
            seen.add(subscription.id)
            if locale not in payloads:
                payloads[locale] = _payload_in(locale, event, kind, navigate)
            db.session.add(
                NotificationOutbox(
                    subscription_id=subscription.id,
                    request_id=request.id,
                    event_id=event.id,
                    payload=payloads[locale],
                    topic=request.public_id.replace("-", "")[:32],
                    urgency="normal" if kind == ALWAYS else "low",
                    ttl_seconds=TTL_SECONDS,
                )
            )
            queued += 1
    return queued


MAX_ENDPOINT = 1024


def _decode_key(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise DomainError(_("The subscription's %(name)s key is missing.", name=name), field=name)
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise DomainError(
            _("The subscription's %(name)s key is not base64url.", name=name), field=name
        ) from None


def check_subscription(endpoint: object, p256dh: object, auth: object) -> str:
    """Refuse anything that is not a usable Web Push subscription; returns the endpoint.

    The endpoint must belong to one of the configured push services (https on a public
    host, see ``push_endpoints``); p256dh must be a P-256 public point and auth 16 bytes.
    """
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise DomainError(_("The subscription has no usable endpoint."), field="endpoint")
    if not push_endpoints.endpoint_allowed(endpoint, current_app.config["PUSH_SERVICES"]):
        raise DomainError(
            _("The subscription's endpoint must be an https URL of a known push service."),
            field="endpoint",
        )
    point = _decode_key(p256dh, "p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise DomainError(
            _("The subscription's p256dh key is not a P-256 public key."), field="p256dh"
        ) from None
    if len(_decode_key(auth, "auth")) != 16:
        raise DomainError(_("The subscription's auth secret must be 16 bytes."), field="auth")
    return endpoint


def subscribe(
    endpoint: str,
    p256dh: str,
    auth: str,
    *,
    user: User | None,
    device: Device | None,
) -> tuple[PushSubscription, bool]:
    """Store (or refresh) a browser's subscription for a user and/or device.

    The endpoint is the browser's secret, so whoever presents it owns it: a re-sync
    after signing in moves it to the account. Returns (subscription, created).
    """
    if user is None and device is None:
        raise DomainError(_("Open this app on your device to get notifications."), status=401)
    check_subscription(endpoint, p256dh, auth)
    subscription = db.session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first()
    created = subscription is None
    if created:
        subscription = PushSubscription(endpoint=endpoint)
        db.session.add(subscription)
    subscription.p256dh = p256dh.rstrip("=")
    subscription.auth = auth.rstrip("=")
    subscription.user_id = user.id if user else None
    subscription.device_id = device.id if device else None
    subscription.failure_count = 0
    if device is not None and has_request_context():
        # The language this person reads the app in is the one their notifications use.
        device.locale = str(get_locale())
    db.session.flush()
    return subscription, created


def unsubscribe(endpoint: str, *, user: User | None, device: Device | None) -> bool:
    """Forget a subscription the caller owns; returns False when there was none."""
    subscription = db.session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first()
    if subscription is None:
        return False
    owns = (user is not None and subscription.user_id == user.id) or (
        device is not None and subscription.device_id == device.id
    )
    if not owns:
        return False
    db.session.delete(subscription)
    db.session.flush()
    return True


def preferences(device: Device | None) -> dict[str, bool]:
    """Which optional updates the device wants (closure is always sent)."""
    return {
        **DEFAULT_PREFS,
        **{
            k: bool(v)
            for k, v in ((device and device.notify_prefs) or {}).items()
            if k in DEFAULT_PREFS
        },
    }


def set_preferences(device: Device, changes: dict) -> dict[str, bool]:
    """Update the device's choices of optional updates; unknown kinds are refused."""
    if not isinstance(changes, dict):
        raise DomainError(_("Preferences must be an object of true/false values."), status=400)
    unknown = sorted(set(changes) - set(OPTIONAL_KINDS))
    if unknown:
        raise DomainError(
            _("Unknown notification kinds: %(kinds)s.", kinds=", ".join(unknown)),
            field="preferences",
        )
    if any(not isinstance(value, bool) for value in changes.values()):
        raise DomainError(_("Each preference must be true or false."), field="preferences")
    merged = {**preferences(device), **changes}
    device.notify_prefs = merged
    db.session.flush()
    return merged
