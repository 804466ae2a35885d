"""Anonymous devices: random bearer tokens, stored only as their SHA-256.

A device row is made only for a browser that shows it keeps its token: pages *offer*
a signed token in a cookie without writing anything, and the row is made when that
token comes back (``adopt``). A script that never keeps cookies cannot mint a new
"person" with every call.

What an account claims leaves the device: its requests are the account's, the follows
move to the account, and signing out hands the browser a fresh device, so the next
person on a shared phone starts with nothing of the last one's.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.models import Device, Follow, PushSubscription, ServiceRequest, User, utcnow
from webapp.plumbing.extensions import db

# How fine "last seen" is: a device is stamped again only once this has passed.
LAST_SEEN_STEP = timedelta(minutes=15)


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


OFFER_SALT = "civic311-device-offer"


def offer(secret: str) -> str:
    """A new device token signed with the app's secret; nothing is stored until it returns."""
    return Signer(secret, salt=OFFER_SALT).sign(secrets.token_urlsafe(24)).decode()


def adopt(token: str | None, secret: str) -> Device | None:
    """The device for a token this server offered and the browser kept, made on its return.

    Returns None for a token that is not a genuine offer (forged, or from another key).
    Two sends carrying the same new token at once (on two app servers) make one row.
    """
    if not token or len(token) > 128:
        return None
    try:
        Signer(secret, salt=OFFER_SALT).unsign(token)
    except BadSignature:
        return None
    existing = find(token)
    if existing is not None:
        return existing
    now = utcnow()
    # Stamped like a minted device: until its token comes back once more, the answer
    # that confirmed it may have been lost (see device_handover.never_presented).
    device = Device(
        token_hash=token_hash(token), notify_prefs={}, created_at=now, last_seen_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(device)
    except IntegrityError:
        # The same phone's other send (a replay to another app server, say) made the
        # row a moment ago: both sends belong to that one device.
        return find(token)
    return device


def find(token: str) -> Device | None:
    """The device for a token, or None for an unknown or malformed token."""
    if not token or len(token) > 128:
        return None
    device = db.session.scalars(
        select(Device).where(Device.token_hash == token_hash(token))
    ).first()
    if device is not None:
        now = utcnow()
        # The first presentation always moves the stamp (it ends "never presented back",
        # see device_handover); after that it is kept to the quarter hour, so a phone's
        # every call does not also write its device row.
        if device.last_seen_at == device.created_at or now - device.last_seen_at >= LAST_SEEN_STEP:
            device.last_seen_at = now
    return device


def claim(device: Device, user: User) -> int:
    """Move a device's anonymous requests, follows and pushes into a user's account.

    Returns how many requests were claimed. A claimed request belongs to the account
    from then on (the device no longer shows it); a follow moves to the account, or is
    dropped when the account already follows that request.
    """
    device.user_id = user.id
    claimed = db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.device_id == device.id, ServiceRequest.requester_id.is_(None))
        .values(requester_id=user.id)
    ).rowcount
    already = set(db.session.scalars(select(Follow.request_id).where(Follow.user_id == user.id)))
    recount: set[int] = set()
    for follow in db.session.scalars(select(Follow).where(Follow.device_id == device.id)):
        if follow.user_id is None and follow.request_id in already:
            db.session.delete(follow)
            recount.add(follow.request_id)
            continue
        follow.user_id = user.id
        follow.device_id = None
        already.add(follow.request_id)
    db.session.flush()
    for request_id in recount:
        _recount_supporters(request_id)
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.device_id == device.id, PushSubscription.user_id.is_(None))
        .values(user_id=user.id)
    )
    return claimed or 0


def _recount_supporters(request_id: int) -> None:
    count = db.session.scalar(
        select(func.count(Follow.id)).where(
            Follow.request_id == request_id, Follow.supporter.is_(True)
        )
    )
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == request_id)
        .values(supporters_count=count or 0)
    )


def start_afresh(previous: Device | None) -> tuple[str, Device]:
    """Signing out: a fresh device for this browser, and the previous one retired.

    The previous token stops working (a copy of it opens nothing), and the browser's
    push subscriptions move to the fresh device without the account, so the last
    person's news no longer arrives on this phone.
    """
    token, fresh = create()
    if previous is not None:
        previous.token_hash = token_hash(secrets.token_urlsafe(32))
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.device_id == previous.id)
            .values(device_id=fresh.id, user_id=None)
        )
    return token, fresh
