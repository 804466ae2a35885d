"""Anonymous devices: random bearer tokens, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Device, Follow, PushSubscription, ServiceRequest, User, utcnow


def token_hash(token: str) -> str:
    """SHA-256 of a device token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create() -> tuple[str, Device]:
    """A new device and its token (shown to the browser once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Same stamp twice: "never presented back" (see device_handover) until find() sees it.
    device = Device(token_hash=token_hash(token), notify_prefs={}, created_at=now, last_seen_at=now)
    db.session.add(device)
    db.session.flush()
    return token, device


def find(token: str) -> Device | None:
    """The device for a token, or None for an unknown or malformed token."""
    if not token or len(token) > 128:
        return None
    device = db.session.scalars(
        select(Device).where(Device.token_hash == token_hash(token))
    ).first()
    if device is not None:
        device.last_seen_at = utcnow()
    return device


def claim(device: Device, user: User) -> int:
    """Link a device and its anonymous requests, follows and pushes to a user.

    Returns how many requests were claimed. Follows the user already has are kept once.
    """
    device.user_id = user.id
    claimed = db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.device_id == device.id, ServiceRequest.requester_id.is_(None))
        .values(requester_id=user.id)
    ).rowcount
    already = set(db.session.scalars(select(Follow.request_id).where(Follow.user_id == user.id)))
    for follow in db.session.scalars(select(Follow).where(Follow.device_id == device.id)):
        if follow.user_id is None and follow.request_id not in already:
            follow.user_id = user.id
            already.add(follow.request_id)
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.device_id == device.id, PushSubscription.user_id.is_(None))
        .values(user_id=user.id)
    )
    return claimed or 0
