"""Web Push through the JSON API: the VAPID key, subscriptions, per-device preferences."""

from __future__ import annotations

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import PreferencesBody, SubscribeBody, UnsubscribeBody
from webapp.api.responses import (
    DeletedAnswer,
    PreferencesAnswer,
    PublicKeyAnswer,
    SubscriptionAnswer,
)
from webapp.api.schema import body, operation
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle.following import follow
from webapp.domain.notifications import notify
from webapp.domain.notifications.push import push_sender
from webapp.plumbing import limits
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db, limiter
from webapp.plumbing.sessions import current_account, current_device, kept_device


@bp.get("/push/public-key")
@public
@operation(tags=["push"], returns=PublicKeyAnswer)
def push_public_key():
    """The VAPID public key the browser subscribes with."""
    return envelope({"public_key": push_sender.public_key()})


@bp.post("/push/subscriptions")
@public
@limiter.limit(
    limits.follow_limit, key_func=limits.follow_address_key, exempt_when=limits.not_following
)
@operation(tags=["push"], json=SubscribeBody, success=(201, 200), returns=SubscriptionAnswer)
def push_subscribe():
    """Save this browser's subscription for the signed-in user or the anonymous device.

    ``request`` (a public id) also follows that request; ``old_endpoint`` replaces a
    subscription the browser rotated.
    """
    sent = body()
    account = current_account()
    kept = kept_device()
    device = kept or current_device(create=True)
    old = sent.old_endpoint
    if old and old != sent.endpoint:
        notify.unsubscribe(old, user=account, device=device)
    subscription, created = notify.subscribe(
        sent.endpoint,
        sent.keys.p256dh,
        sent.keys.auth,
        user=account,
        device=device,
    )
    following = None
    if sent.request:
        followed = requests_domain.get_public_by_public_id(sent.request)
        # Only a device the browser kept is a supporter; a fresh one would be a new "person".
        follow(followed, user=account, device=kept)
        following = followed.public_id
    db.session.commit()
    return envelope(
        {
            "endpoint": subscription.endpoint,
            "following": following,
            "preferences": notify.preferences(device),
        },
        status=201 if created else 200,
        meta={"created": created},
    )


@bp.delete("/push/subscriptions")
@public
@operation(tags=["push"], json=UnsubscribeBody, returns=DeletedAnswer)
def push_unsubscribe():
    """Forget this browser's subscription (only its owner can)."""
    endpoint = body().endpoint
    deleted = notify.unsubscribe(endpoint, user=current_account(), device=current_device())
    db.session.commit()
    return envelope({"deleted": deleted})


@bp.get("/push/preferences")
@public
@operation(tags=["push"], returns=PreferencesAnswer)
def push_preferences():
    """Which optional updates this device wants (closure is always sent)."""
    return envelope({"preferences": notify.preferences(current_device())})


@bp.put("/push/preferences")
@public
@operation(tags=["push"], json=PreferencesBody, returns=PreferencesAnswer)
def push_set_preferences():
    """Choose the optional updates (acknowledged, in progress, reopened, merged)."""
    changes = body().changes()
    device = current_device(create=True)
    merged = notify.set_preferences(device, changes)
    db.session.commit()
    return envelope({"preferences": merged})
