"""How often the app may mail an address nobody has confirmed.

Anyone can type any address into the sign-in-link form, the area-alert form or a report,
and each of those mails it. Limits per IP address do not protect the owner of that
address: a mail bomb can come from many addresses. So every mail a member of the public
can set off (``STRANGER_KINDS``) is also capped per recipient, counted over all the mail
queued to that address (any kind), whoever asked: ``MAIL_UNCONFIRMED_PER_HOUR`` in the
last hour and ``MAIL_UNCONFIRMED_PER_DAY`` in the last 24 hours. Over the cap the mail
is simply not queued; the form answers exactly as when it was, so the cap tells nobody
anything about the address.

An address is confirmed once its owner used a link we mailed to it: a device followed a
sign-in link (``DeviceEmail``) or an area alert was turned on (``AreaAlert.confirmed_at``).
Confirmed addresses asked for their mail and are not capped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from webapp.models import AreaAlert, DeviceEmail, NotificationOutbox, utcnow
from webapp.plumbing.extensions import db

# Mails set off by whoever fills a public form: the sign-in link, an area alert's
# confirmation, and a new report's confirmation.
STRANGER_KINDS = frozenset({"sign_in", "alert_confirm", "confirmation"})
DEFAULT_PER_HOUR = 3
DEFAULT_PER_DAY = 6


def is_confirmed(address: str) -> bool:
    """True when the address's owner has used a link we mailed to it."""
    key = address.strip().lower()
    proven = select(DeviceEmail.id).where(func.lower(DeviceEmail.address) == key).limit(1)
    alert = (
        select(AreaAlert.id)
        .where(func.lower(AreaAlert.address) == key, AreaAlert.confirmed_at.is_not(None))
        .limit(1)
    )
    return db.session.scalar(proven) is not None or db.session.scalar(alert) is not None


def queued_since(address: str, since: datetime) -> int:
    """How many mails were queued to ``address`` (any case) since ``since``."""
    return db.session.scalar(
        select(func.count())
        .select_from(NotificationOutbox)
        .where(
            NotificationOutbox.created_at >= since,
            func.lower(NotificationOutbox.email_to) == address.strip().lower(),
        )
    )


def allows(address: str, kind: str, now: datetime | None = None) -> bool:
    """May a mail of ``kind`` be queued to ``address`` now?

    Mail of other kinds, and mail to a confirmed address, always may; a stranger's kind
    to an unconfirmed address may while the hour's and the day's counts are under the
    caps. ``now`` is the clock reading (the current time when omitted).
    """
    if kind not in STRANGER_KINDS:
        return True
    now = now or utcnow()
    config = current_app.config
    per_hour = int(config.get("MAIL_UNCONFIRMED_PER_HOUR", DEFAULT_PER_HOUR))
    per_day = int(config.get("MAIL_UNCONFIRMED_PER_DAY", DEFAULT_PER_DAY))
    if queued_since(address, now - timedelta(hours=1)) < per_hour and (
        queued_since(address, now - timedelta(days=1)) < per_day
    ):
        return True
    return is_confirmed(address)
