"""Web Push through the JSON API: the VAPID key, subscriptions, per-device preferences."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from webapp import limits
from webapp.access import public
from webapp.api import bp
from webapp.api.envelope import envelope
from webapp.api.openapi import ERROR_REF, WRITE_HEADER, register_path
from webapp.domain import notify, push
from webapp.domain import requests as requests_domain
from webapp.domain.errors import DomainError
from webapp.extensions import db, limiter
from webapp.sessions import current_account, current_device, kept_device


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError(_("Please send a JSON object."), status=400)
    return body


@bp.get("/push/public-key")
@public
def push_public_key():
    """The VAPID public key the browser subscribes with."""
    return envelope({"public_key": push.public_key()})


@bp.post("/push/subscriptions")
@public
@limiter.limit(
    limits.follow_limit, key_func=limits.follow_address_key, exempt_when=limits.not_following
)
def push_subscribe():
    """Save this browser's subscription for the signed-in user or the anonymous device.

    ``request`` (a public id) also follows that request; ``old_endpoint`` replaces a
    subscription the browser rotated.
    """
    body = _json_body()
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    account = current_account()
    kept = kept_device()
    device = kept or current_device(create=True)
    old = body.get("old_endpoint")
    if isinstance(old, str) and old and old != body.get("endpoint"):
        notify.unsubscribe(old, user=account, device=device)
    subscription, created = notify.subscribe(
        body.get("endpoint"),
        keys.get("p256dh"),
        keys.get("auth"),
        user=account,
        device=device,
    )
    following = None
    if isinstance(body.get("request"), str) and body["request"]:
        followed = requests_domain.get_public_by_public_id(body["request"])
        # Only a device the browser kept is a supporter; a fresh one would be a new "person".
        requests_domain.follow(followed, user=account, device=kept)
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
def push_unsubscribe():
    """Forget this browser's subscription (only its owner can)."""
    body = _json_body()
    endpoint = body.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise DomainError(_("Say which endpoint to forget."), status=400, field="endpoint")
    deleted = notify.unsubscribe(endpoint, user=current_account(), device=current_device())
    db.session.commit()
    return envelope({"deleted": deleted})


@bp.get("/push/preferences")
@public
def push_preferences():
    """Which optional updates this device wants (closure is always sent)."""
    return envelope({"preferences": notify.preferences(current_device())})


@bp.put("/push/preferences")
@public
def push_set_preferences():
    """Choose the optional updates (acknowledged, in progress, reopened, merged)."""
    body = _json_body()
    changes = body.get("preferences", body)
    device = current_device(create=True)
    merged = notify.set_preferences(device, changes)
    db.session.commit()
    return envelope({"preferences": merged})


_PREFS_SCHEMA = {
    "type": "object",
    "properties": {kind: {"type": "boolean"} for kind in notify.OPTIONAL_KINDS},
    "additionalProperties": False,
}
_SUBSCRIPTION_SCHEMA = {
    "type": "object",
    "required": ["endpoint", "keys"],
    "properties": {
        "endpoint": {"type": "string", "format": "uri", "maxLength": notify.MAX_ENDPOINT},
        "keys": {
            "type": "object",
            "required": ["p256dh", "auth"],
            "properties": {
                "p256dh": {"type": "string", "description": "base64url P-256 public point"},
                "auth": {"type": "string", "description": "base64url 16-byte secret"},
            },
        },
        "request": {"type": "string", "description": "Also follow this request (public id)"},
        "old_endpoint": {"type": "string", "description": "A rotated subscription to replace"},
    },
}


def _json(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, **extra) -> dict:
    responses = extra.pop("responses", {"200": {"$ref": "#/components/responses/Ok"}})
    responses.setdefault("default", ERROR_REF)
    return {"summary": summary, "tags": ["push"], "responses": responses, **extra}


register_path(
    "/api/v1/push/public-key",
    {"get": _op("The VAPID public key (applicationServerKey) for PushManager.subscribe")},
)
register_path(
    "/api/v1/push/subscriptions",
    {
        "post": _op(
            "Save a push subscription for the signed-in user or this device",
            parameters=[WRITE_HEADER],
            requestBody=_json(_SUBSCRIPTION_SCHEMA),
            responses={
                "201": {"$ref": "#/components/responses/Ok"},
                "200": {"description": "Already known: refreshed"},
                "400": ERROR_REF,
                "422": ERROR_REF,
            },
        ),
        "delete": _op(
            "Forget a push subscription this caller owns",
            parameters=[WRITE_HEADER],
            requestBody=_json(
                {
                    "type": "object",
                    "required": ["endpoint"],
                    "properties": {"endpoint": {"type": "string"}},
                }
            ),
        ),
    },
)
register_path(
    "/api/v1/push/preferences",
    {
        "get": _op("This device's choice of optional updates"),
        "put": _op(
            "Choose optional updates (closure is always sent)",
            parameters=[WRITE_HEADER],
            requestBody=_json({"type": "object", "properties": {"preferences": _PREFS_SCHEMA}}),
        ),
    },
)
