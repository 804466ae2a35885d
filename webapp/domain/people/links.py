"""Signed, expiring, single-purpose links for e-mail ("Yes, it's fixed", "No, it's not
fixed", unsubscribe, sign in on another phone, confirm an area alert).

A link carries its purpose in the signature's salt, so a token made for one purpose
never opens another. Acting links are single-use: using one records its random id in
``used_links``, whose UNIQUE constraint (not a prior SELECT) decides a race. Opening a
link (GET) never changes anything; only the confirm button (POST) does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.models import UsedLink
from webapp.plumbing.extensions import db

FIXED = "fixed"
NOT_FIXED = "not-fixed"
UNSUBSCRIBE = "unsubscribe"
SIGN_IN = "sign-in"
ALERT = "alert"
SET_PASSWORD = "set-password"
PURPOSES = (FIXED, NOT_FIXED, UNSUBSCRIBE, SIGN_IN, ALERT, SET_PASSWORD)
SIGN_IN_MINUTES = 15
ALERT_CONFIRM_DAYS = 7
UNSUBSCRIBE_DAYS = 3650
SET_PASSWORD_DAYS = 7


class LinkError(Exception):
    """A link that cannot be used: ``reason`` is tampered, expired or used."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """A verified link's contents."""

    purpose: str
    data: dict

    @property
    def link_id(self) -> str:
        """The random id that makes a single-use link single."""
        return self.data["j"]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"civic311-{purpose}")


def make(purpose: str, **data) -> str:
    """A signed token for ``purpose`` carrying ``data`` and a fresh random id."""
    return _serializer(purpose).dumps({**data, "j": secrets.token_urlsafe(12)})


def max_age_seconds(purpose: str) -> int:
    """How long a link of ``purpose`` stays valid."""
    if purpose == SIGN_IN:
        return SIGN_IN_MINUTES * 60
    if purpose == ALERT:
        return ALERT_CONFIRM_DAYS * 86400
    if purpose == UNSUBSCRIBE:
        return UNSUBSCRIBE_DAYS * 86400
    if purpose == SET_PASSWORD:
        return SET_PASSWORD_DAYS * 86400
    return int(current_app.config.get("REOPEN_WINDOW_DAYS", 30)) * 86400


def read(purpose: str, token: str, *, single_use: bool = True) -> Link:
    """Verify a token for ``purpose``; raises LinkError(tampered|expired|used)."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age_seconds(purpose))
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadSignature:
        raise LinkError("tampered") from None
    if not isinstance(data, dict) or not isinstance(data.get("j"), str):
        raise LinkError("tampered")
    link = Link(purpose, data)
    if single_use and is_used(link):
        raise LinkError("used")
    return link


def is_used(link: Link) -> bool:
    """True once the link's action was done."""
    return (
        db.session.scalar(select(UsedLink.id).where(UsedLink.link_id == link.link_id)) is not None
    )


def use(link: Link) -> None:
    """Mark a single-use link used inside the caller's transaction (LinkError("used") when
    another request got there first; the caller rolls back)."""
    try:
        with db.session.begin_nested():
            db.session.add(UsedLink(link_id=link.link_id, purpose=link.purpose))
    except IntegrityError:
        raise LinkError("used") from None
