"""The city pack's settings as the app's configuration.

The pack's row (``city_settings``) is read before requests, at most every
``CITY_SETTINGS_TTL`` seconds per process, and laid over the configuration: name,
jurisdiction, time zone, map tiles, geocoder, reopen window, public address, colours
and logo. A setting given in the environment wins over the pack (a deployment may
point tiles at its own server); so do those a test sets in ``CITY_PACK_KEEPS``.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from flask import Flask, appcontext_pushed, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from webapp.plumbing.extensions import db

# config key → path in the pack's settings
MAPPED = {
    "CITY_NAME": ("name",),
    "JURISDICTION_ID": ("jurisdiction_id",),
    "BABEL_DEFAULT_TIMEZONE": ("timezone",),
    "TILE_URL": ("map", "tile_url"),
    "TILE_ATTRIBUTION": ("map", "attribution"),
    "GEOCODER_DOMAIN": ("geocoder", "domain"),
    "GEOCODER_SCHEME": ("geocoder", "scheme"),
    "GEOCODER_USER_AGENT": ("geocoder", "user_agent"),
    "REOPEN_WINDOW_DAYS": ("reopen_window_days",),
    "PUBLIC_URL": ("public_url",),
}
ENV_NAMES = {"BABEL_DEFAULT_TIMEZONE": "CITY_TIMEZONE"}
STATE = "civic311_city_settings"
DEFAULT_BRAND = {"primary": "#0b5c4a", "on_primary": "#ffffff"}


def _pick(data: dict, path: tuple[str, ...]):
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if data not in ("", None) else None


def _kept(app: Flask) -> set[str]:
    keeps = set(app.config.get("CITY_PACK_KEEPS") or ())
    return keeps | {k for k in MAPPED if os.environ.get(ENV_NAMES.get(k, k))}


def lay_over(app: Flask, data: dict | None, applied_at: datetime | None = None) -> None:
    """Set the configuration from the pack's ``data`` (None: back to the defaults);
    ``applied_at`` is when the pack last changed anything (Open311 discovery's changeset)."""
    state = app.extensions.setdefault(STATE, {"defaults": None, "revision": None, "at": None})
    if state["defaults"] is None:
        state["defaults"] = {k: app.config.get(k) for k in MAPPED}
    kept = _kept(app)
    for key, path in MAPPED.items():
        if key in kept:
            continue
        value = _pick(data or {}, path)
        app.config[key] = value if value is not None else state["defaults"][key]
    babel = app.extensions.get("babel")
    if babel is not None and hasattr(babel, "default_timezone"):  # dates shown to people
        babel.default_timezone = app.config["BABEL_DEFAULT_TIMEZONE"]
    data = data or {}
    app.config["CITY_BRAND"] = {**DEFAULT_BRAND, **(data.get("colours") or {})}
    app.config["CITY_LOGO"] = data.get("logo")
    app.config["CITY_CONTACT"] = {"en": data.get("contact") or "", "es": data.get("contact_es")
                                  or ""}
    app.config["CITY_PACK"] = data or None
    app.config["CITY_PACK_APPLIED_AT"] = applied_at if data else None


def refresh(app: Flask, *, force: bool = False) -> None:
    """Read the pack's row when it may have changed and lay it over the configuration."""
    from webapp.models import CitySettings

    state = app.extensions.setdefault(STATE, {"defaults": None, "revision": None, "at": None})
    ttl = float(app.config.get("CITY_SETTINGS_TTL", 10))
    now = time.monotonic()
    if not force and state["at"] is not None and ttl > 0 and now - state["at"] < ttl:
        return
    state["at"] = now
    # A connection of its own, closed at once: a read here must never leave the request's
    # session in a transaction holding a lock (a test's TRUNCATE, a migration, would wait).
    try:
        with db.engine.connect() as connection:
            row = connection.execute(
                select(
                    CitySettings.revision,
                    CitySettings.fingerprint,
                    CitySettings.data,
                    CitySettings.applied_at,
                ).where(CitySettings.id == 1)
            ).first()
    except SQLAlchemyError:  # not migrated yet
        return
    key = (row.revision, row.fingerprint) if row else None
    if key != state["revision"] or force:
        state["revision"] = key
        lay_over(app, row.data if row else None, row.applied_at if row else None)


def init_app(app: Flask) -> None:
    """Lay the pack's settings over the configuration before each request, and in every
    app context a worker or command opens (mail composed there names the city too)."""
    lay_over(app, None)

    @app.before_request
    def _city_settings():
        refresh(current_app._get_current_object())

    def _on_context(sender, **_extra):
        if "sqlalchemy" in sender.extensions:
            refresh(sender)

    appcontext_pushed.connect(_on_context, app, weak=False)
