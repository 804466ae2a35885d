"""A phone keeps the reports whose first answer it never received.

When the answer to a phone's first report is lost on the way back, the device the
server minted for that report (and its token) never reaches the phone. The phone's
outbox then replays the report with the same Idempotency-Key and payload, from the
device it does hold. That replay proves it is the phone that wrote the report, and a
device whose token was never presented back proves nobody else holds it: the phone's
device takes over what the unreceived one owned, so the phone's *My requests*, its
follows and its push subscription all hang off one device.
"""

from __future__ import annotations

from sqlalchemy import select, update

from webapp.models import Device, Follow, PushSubscription, ServiceRequest
from webapp.plumbing.extensions import db


def never_presented(device: Device) -> bool:
    """True while no caller has ever come back with this device's token.

    A new device is stamped with ``last_seen_at == created_at``; every later
    presentation of its token moves ``last_seen_at`` on.
    """
    return device.last_seen_at == device.created_at


def adopt_unreceived_device(service_request: ServiceRequest, holder: Device | None) -> bool:
    """On a replayed report: give the caller's device what an unreceived device owned.

    Does nothing (returns False) unless the request belongs to another anonymous device
    that was never presented back and to no account. Commits when it moves anything.
    """
    owner = service_request.device
    if holder is None or owner is None or owner.id == holder.id:
        return False
    if owner.user_id is not None or service_request.requester_id is not None:
        return False
    if not never_presented(owner):
        return False
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.device_id == owner.id)
        .values(device_id=holder.id)
    )
    held = set(db.session.scalars(select(Follow.request_id).where(Follow.device_id == holder.id)))
    for follow in db.session.scalars(select(Follow).where(Follow.device_id == owner.id)).all():
        if follow.request_id in held:
            db.session.delete(follow)
        else:
            follow.device_id = holder.id
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.device_id == owner.id)
        .values(device_id=holder.id)
    )
    if owner.notify_prefs and not holder.notify_prefs:
        holder.notify_prefs = dict(owner.notify_prefs)
    db.session.commit()
    db.session.refresh(service_request)
    return True
