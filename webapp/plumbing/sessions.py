"""Who is calling: Flask-Login for accounts, a device token for anonymous residents.

An anonymous resident's phone keeps a random device token (in IndexedDB and in the
``civic_device`` cookie, or sent as ``X-Device-Token``). Requests and follows made
without an account hang off that device; signing in claims them.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.domain.people import devices
from webapp.models import Device, User
from webapp.plumbing.extensions import db, login_manager

DEVICE_COOKIE = "civic_device"
DEVICE_HEADER = "X-Device-Token"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
SESSION_ID = re.compile(r"([0-9]{1,9}):([0-9]{1,9})", re.ASCII)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the active user whose session version still matches.

    The session remembers ``"<id>:<version>"``; signing out or changing the password
    raises the user's version, so a copy of an older session cookie loads nobody.
    """
    match = SESSION_ID.fullmatch(session_id or "")
    if match is None:
        return None
    user_id, version = int(match[1]), int(match[2])
    user = db.session.get(User, user_id)
    if user is None or not user.active or (user.session_version or 0) != version:
        return None
    return user


def device_token_from_request() -> str | None:
    """The device token the caller presented, header first."""
    return request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE)


def _presented_tokens() -> list[str]:
    """The tokens the caller sent: the app's header first, then the cookie."""
    tokens = [request.headers.get(DEVICE_HEADER), request.cookies.get(DEVICE_COOKIE)]
    return [t for i, t in enumerate(tokens) if t and t not in tokens[:i]]


def _known_device(create: bool, adopt: bool) -> Device | None:
    tokens = _presented_tokens()
    for token in tokens:
        device = devices.find(token)
        if device is not None:
            if token != tokens[0]:
                g.new_device_token = token  # the app's stored token is stale: send it the live one
            return device
    if adopt or create:
        for token in tokens:
            device = devices.adopt(token, current_app.secret_key)
            if device is not None:
                db.session.commit()
                g.new_device_token = token
                return device
    if create:
        token, device = devices.create()
        db.session.commit()
        g.new_device_token = token
        return device
    return None


def current_device(create: bool = False, adopt: bool = False) -> Device | None:
    """The caller's device.

    ``adopt`` makes the row for a token a page offered and the browser kept; ``create``
    also mints a new device when the caller brought none (a report must belong to
    someone). A retired token (signed out) falls back to the cookie, and the live token
    is handed back so the app's stored copy is replaced.
    """
    if g.get("device") is not None or ("device" in g and not (create or adopt)):
        return g.device
    device = _known_device(create, adopt)
    g.device = device
    return device


def kept_device() -> Device | None:
    """The caller's device only when the browser has shown it keeps its token; never minted.

    Used where a new device would count as a new person ("me too"): a call that keeps no
    cookie gets no device, and the rule then asks it to sign in or use the app.
    """
    return current_device(adopt=True)


def current_account() -> User | None:
    """The signed-in user, or None."""
    return current_user if current_user.is_authenticated else None


def _offer_device(response):
    """A page shown to a browser with no device token offers one (nothing is stored)."""
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype == "text/html"
        and not request.cookies.get(DEVICE_COOKIE)
        and "new_device_token" not in g
        and not response.cache_control.public
    ):
        g.new_device_token = devices.offer(current_app.secret_key)
        g.device_offered = True


def _set_device_cookie(response):
    _offer_device(response)
    token = g.pop("new_device_token", None)
    if token:
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        if not g.pop("device_offered", False):
            response.headers["X-Device-Token"] = token
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Login and hand new device tokens back to the browser."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.session_protection = "strong"
    app.after_request(_set_device_cookie)
