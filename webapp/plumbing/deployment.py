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
- ``PUBLIC_URL`` is where links in e-mail point. They are never built from a request's
  ``Host``: outside debug and testing the app refuses to start unless ``PUBLIC_URL`` is
  set or can be taken from the first plain name in ``TRUSTED_HOSTS`` (as ``https://``).
  Session and device cookies are ``Secure`` by default when that address is ``https``.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32
# Estimated bits of entropy a key must carry. zxcvbn credits a random character with
# log2(10) ≈ 3.3 bits, so 32 random characters score about 106 and generated keys
# (64 characters) over 200, while repeated words, runs and single characters score
# under 40: 80 leaves room for the former and none for the latter.
MIN_SECRET_KEY_BITS = 80
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


def estimated_entropy_bits(text: str) -> float:
    """A cautious estimate of the bits of entropy in ``text``: the smaller of two.

    - Shannon: the length times the entropy per character of the text's own character
      frequencies (``0`` × 64 or 40 spaces score 0; a repeated word scores only what
      its few letters are worth per character).
    - zxcvbn's guess count (``log2(guesses)``): it finds repeats, sequences, keyboard
      walks and dictionary words, so ``changemechangemechangemechangeme`` scores as the
      one word repeated, not as 32 random letters.

    Both are estimates from the text alone: a key copied from somewhere public can still
    score high, which is why known placeholders are also refused by name.
    """
    from zxcvbn import zxcvbn

    if not text:
        return 0.0
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    shannon = per_char * len(text)
    guesses = float(zxcvbn(text[:100])["guesses"])
    return min(shannon, math.log2(max(guesses, 1.0)))


def weak_secret_key(key: str | bytes | None) -> bool:
    """True when ``key`` is missing, a well-known placeholder, too short, or carries
    too little estimated entropy to be secret (see ``estimated_entropy_bits``)."""
    if not key:
        return True
    text = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
    return (
        text.strip().lower() in KNOWN_WEAK_KEYS
        or len(text) < MIN_SECRET_KEY_LENGTH
        or estimated_entropy_bits(text) < MIN_SECRET_KEY_BITS
    )


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
            "SECRET_KEY is a known, short or guessable value: anyone who guesses it can "
            "forge a session. Unset it to generate one into the instance folder, or set at "
            f"least {MIN_SECRET_KEY_LENGTH} random characters (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        )


def public_url_setting(config) -> str | None:
    """The public address e-mail links start with: ``PUBLIC_URL``, else ``https://``
    and the first plain host name in ``TRUSTED_HOSTS``; None when neither says."""
    configured = (config.get("PUBLIC_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    for host in config.get("TRUSTED_HOSTS") or []:
        if host and not host.startswith("."):
            return f"https://{host}"
    return None


def configure_public_url(app: Flask) -> None:
    """Refuse to start in production without a public address for e-mail links (they
    would otherwise have to come from the ``Host`` a caller sends), and make cookies
    ``Secure`` by default when that address is ``https``."""
    public = public_url_setting(app.config)
    if public is None and not (app.debug or app.testing):
        raise InsecureConfiguration(
            "PUBLIC_URL is not set: links in e-mail (sign-in, confirmations, unsubscribe) "
            "need the city's public address and are never taken from a request's Host. "
            "Set PUBLIC_URL=https://311.your-city.gov (or TRUSTED_HOSTS=311.your-city.gov)."
        )
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        secure = bool(public and public.lower().startswith("https://"))
        app.config["SESSION_COOKIE_SECURE"] = secure
        if app.config.get("REMEMBER_COOKIE_SECURE") is None:
            app.config["REMEMBER_COOKIE_SECURE"] = secure


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
    """Secret key first (everything signed depends on it), then the public address and
    the proxy in front."""
    configure_secret_key(app)
    configure_public_url(app)
    trust_proxies(app)
    # A business calendar that cannot be read stops the app now, not on the first report.
    from webapp.domain.service_levels import calendar_from

    calendar_from(app.config)
