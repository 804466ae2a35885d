"""Who is calling: Flask-Login for accounts, a device token for anonymous residents.

An anonymous resident's phone keeps a random device token (in IndexedDB and in the
``civic_device`` cookie, or sent as ``X-Device-Token``). Requests and follows made
without an account hang off that device; signing in claims them.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.domain import devices
from webapp.extensions import db, login_manager
from webapp.models import Device, User

DEVICE_COOKIE = "civic_device"
DEVICE_HEADER = "X-Device-Token"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user with that id."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def device_token_from_request() -> str | None:
    """The device token the caller presented, header first."""
    return request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE)


def current_device(create: bool = False) -> Device | None:
    """The caller's device, creating one (and setting its cookie) when asked."""
    if g.get("device") is not None or ("device" in g and not create):
        return g.device
    token = device_token_from_request()
    device = devices.find(token) if token else None
    if device is None and create:
        token, device = devices.create()
        db.session.commit()
        g.new_device_token = token
    g.device = device
    return device


def current_account() -> User | None:
    """The signed-in user, or None."""
    return current_user if current_user.is_authenticated else None


def _set_device_cookie(response):
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
        response.headers["X-Device-Token"] = token
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Login and hand new device tokens back to the browser."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.session_protection = "strong"
    app.after_request(_set_device_cookie)
