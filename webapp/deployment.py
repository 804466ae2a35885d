"""Running behind the city's front door: the secret key, trusted proxies and hosts.

- ``SECRET_KEY`` signs sessions, CSRF tokens and device offers. It has no fixed
  default: when unset, a strong key is generated once into the instance folder (as the
  VAPID key is) and reused by every process that shares that folder. Outside debug
  and testing the app refuses to start on a known or short key.
- ``TRUSTED_PROXIES`` is how many reverse proxies stand in front of the app. Werkzeug's
  ``ProxyFix`` then takes the client's address, scheme, host and prefix from their
  ``X-Forwarded-*`` headers, so rate limits key on the real resident, ``Location`` and
  Open311 URLs come out as ``https://`` and HSTS is sent. With 0 (the default) those
  headers are ignored, so nobody can claim another address by sending one.
- ``TRUSTED_HOSTS`` lists the host names the app answers to; any other ``Host`` gets a
  400 before it can reach a URL the app builds.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32
KNOWN_WEAK_KEYS = frozenset(
    {
        "dev-only-change-me",
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "changeme",
        "change-me",
        "change_me",
        "test-secret",
        "test",
        "password",
        "your-secret-key",
        "supersecret",
    }
)


class InsecureConfiguration(RuntimeError):
    """The app was asked to run in production with a setting that is not safe."""


def weak_secret_key(key: str | bytes | None) -> bool:
    """True when ``key`` is missing, a well-known placeholder, or too short to be secret."""
    if not key:
        return True
    text = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
    return text.strip().lower() in KNOWN_WEAK_KEYS or len(text) < MIN_SECRET_KEY_LENGTH


def _instance_dir(app: Flask) -> Path:
    return Path(app.config.get("INSTANCE_DIR") or app.instance_path)


def instance_secret_key(folder: Path) -> str:
    """The key kept in ``folder``, generated there (mode 0600) the first time.

    Creating the file with O_EXCL means several workers starting at once agree on the
    one key the first of them wrote.
    """
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "w") as out:
                out.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if not key:
        raise InsecureConfiguration(f"{path} is empty; delete it to generate a new key")
    return key


def configure_secret_key(app: Flask) -> None:
    """Use the configured key, or the instance folder's; refuse a weak one in production."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(_instance_dir(app))
    if weak_secret_key(app.config["SECRET_KEY"]) and not (app.debug or app.testing):
        raise InsecureConfiguration(
            "SECRET_KEY is a known or short value: anyone who knows it can forge a "
            f"session. Unset it to generate one into the instance folder, or set at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters."
        )


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-For/Proto/Host/Port/Prefix`` from ``TRUSTED_PROXIES`` hops."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise InsecureConfiguration("TRUSTED_PROXIES must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )


def init_app(app: Flask) -> None:
    """Secret key first (everything signed depends on it), then the proxy in front."""
    configure_secret_key(app)
    trust_proxies(app)
    # A business calendar that cannot be read stops the app now, not on the first report.
    from webapp.domain.lifecycle.service_levels import calendar_from

    calendar_from(app.config)
