"""Configuration read from the environment, with safe development defaults.

Every setting a deployment can change is a class attribute here and a row in the
README's configuration table (a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path

from webapp.domain.notifications.push_endpoints import DEFAULT_PUSH_SERVICES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _catalog_locales() -> tuple[str, ...]:
    """English (the source language) and every language with a catalog, e.g. ("en", "es")."""
    root = PROJECT_ROOT / "webapp" / "translations"
    found = sorted(p.name for p in root.glob("*/LC_MESSAGES") for p in [p.parent])
    return ("en", *(code for code in found if code != "en"))


def _env(name: str, default: str | None = None) -> str | None:
    """Return an environment variable, treating the empty string as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    """Return an integer environment variable or the default."""
    value = _env(name)
    return int(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    """Return a boolean environment variable ("1", "true", "yes" are true)."""
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str] | None:
    """A comma-separated environment variable as a list, or None when unset."""
    value = _env(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _normalise_database_url(url: str) -> str:
    """Make plain ``postgres://`` and ``postgresql://`` URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings for running the app; each one can be overridden by the environment."""

    # Unset: generated once into the instance folder (see webapp/plumbing/deployment.py).
    SECRET_KEY = _env("SECRET_KEY")
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")
    HSTS_MAX_AGE = _env_int("HSTS_MAX_AGE", 31536000)
    INSTANCE_DIR = _env("INSTANCE_DIR", str(DEFAULT_INSTANCE))
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(
        _env("DATABASE_URL", f"sqlite:///{DEFAULT_INSTANCE / 'civic311.db'}")
    )
    # No pool_pre_ping: a closed PostgreSQL connection is seen on its socket at checkout,
    # without a round trip (webapp/plumbing/database.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    UPLOAD_DIR = _env("UPLOAD_DIR", str(DEFAULT_INSTANCE / "uploads"))
    EXPORT_DIR = _env("EXPORT_DIR")
    # Public pulls computed on the spot (updated_after, service_code) above this many rows
    # are refused with a pointer to the published files, so none holds a worker for long.
    EXPORT_MAX_ROWS = _env_int("EXPORT_MAX_ROWS", 50_000)
    # On-the-spot pulls computed at once per app process; the others wait a few seconds.
    EXPORT_CONCURRENCY = _env_int("EXPORT_CONCURRENCY", 1)
    EXPORT_DAILY_CHANGES = _env_int("EXPORT_DAILY_CHANGES", 31)
    EXPORT_MONTHLY_CHANGES = _env_int("EXPORT_MONTHLY_CHANGES", 12)
    PHOTO_STORAGE = _env("PHOTO_STORAGE", "file")
    S3_BUCKET = _env("S3_BUCKET")
    S3_PREFIX = _env("S3_PREFIX", "")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
    S3_REGION = _env("S3_REGION", "us-east-1")
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 25) * 1024 * 1024
    MAX_PHOTO_PIXELS = _env_int("MAX_PHOTO_PIXELS", 50_000_000)
    MAX_PHOTO_MB = _env_int("MAX_PHOTO_MB", 12)

    # Unset: true when PUBLIC_URL is https (see webapp/deployment.py).
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", None)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    BABEL_DEFAULT_LOCALE = _env("DEFAULT_LOCALE", "en")
    BABEL_DEFAULT_TIMEZONE = _env("CITY_TIMEZONE", "America/New_York")
    # One per catalog in webapp/translations/: a new language needs no code change.
    SUPPORTED_LOCALES = _catalog_locales()

    CITY_NAME = _env("CITY_NAME", "Chattanooga")
    # The city's business clock for service levels (webapp.domain.service_levels).
    CITY_BUSINESS_HOURS = _env("CITY_BUSINESS_HOURS", "08:00-18:00")
    CITY_BUSINESS_DAYS = _env("CITY_BUSINESS_DAYS", "mon,tue,wed,thu,fri")
    CITY_HOLIDAYS = _env("CITY_HOLIDAYS", "")
    SLA_AT_RISK_HOURS = _env_int("SLA_AT_RISK_HOURS", 8)
    JURISDICTION_ID = _env("JURISDICTION_ID", "chattanooga.tn.us")

    GEOCODER_DOMAIN = _env("GEOCODER_DOMAIN", "nominatim.openstreetmap.org")
    GEOCODER_SCHEME = _env("GEOCODER_SCHEME", "https")
    GEOCODER_USER_AGENT = _env("GEOCODER_USER_AGENT", "civic311/0.1 (set GEOCODER_USER_AGENT)")
    GEOCODER_TIMEOUT = float(_env("GEOCODER_TIMEOUT", "3"))
    GEOCODER_MIN_DELAY = float(_env("GEOCODER_MIN_DELAY", "1"))

    TILE_URL = _env("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    TILE_ATTRIBUTION = _env("TILE_ATTRIBUTION", "© OpenStreetMap contributors")

    VAPID_PRIVATE_KEY = _env("VAPID_PRIVATE_KEY")
    VAPID_PUBLIC_KEY = _env("VAPID_PUBLIC_KEY")
    VAPID_SUBJECT = _env("VAPID_SUBJECT", "mailto:311@chattanooga.example")
    PUSH_SERVICES = _env_list("PUSH_SERVICES") or list(DEFAULT_PUSH_SERVICES)
    BACKGROUND_WORKER = _env("BACKGROUND_WORKER", "thread")

    REDIS_URL = _env("REDIS_URL")
    RATELIMIT_STORAGE_URI = _env("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SUBMIT = _env("RATELIMIT_SUBMIT", "20 per hour")
    RATELIMIT_SIGNIN = _env("RATELIMIT_SIGNIN", "10 per minute")
    RATELIMIT_SIGNIN_ACCOUNT = _env("RATELIMIT_SIGNIN_ACCOUNT", "20 per hour")
    RATELIMIT_SUBMIT_ACCOUNT = _env("RATELIMIT_SUBMIT_ACCOUNT", "30 per hour")
    RATELIMIT_SUBMIT_STAFF = _env("RATELIMIT_SUBMIT_STAFF", "600 per hour")
    RATELIMIT_FOLLOW = _env("RATELIMIT_FOLLOW", "60 per hour")
    RATELIMIT_FIND = _env("RATELIMIT_FIND", "30 per minute")
    RATELIMIT_EXPORT = _env("RATELIMIT_EXPORT", "30 per hour")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)

    REOPEN_WINDOW_DAYS = _env_int("REOPEN_WINDOW_DAYS", 30)

    # Live chat (see docs/chat.md). Desk hours in city time ("always" for a 24/7 desk;
    # unset: the business hours). A stream is held at most CHAT_STREAM_SECONDS, then the
    # browser reconnects from its last line; without REDIS_URL a stream reads the
    # database every CHAT_POLL_SECONDS. Announcements go to <CHAT_CHANNEL_PREFIX>chat:<id>.
    CHAT_DESK_HOURS = _env("CHAT_DESK_HOURS")
    CHAT_DESK_DAYS = _env("CHAT_DESK_DAYS")
    CHAT_STREAM_SECONDS = float(_env("CHAT_STREAM_SECONDS", "25"))
    CHAT_POLL_SECONDS = float(_env("CHAT_POLL_SECONDS", "1"))
    # How often the desk's list of waiting chats asks for new ones.
    CHAT_QUEUE_SECONDS = float(_env("CHAT_QUEUE_SECONDS", "10"))
    # Streams held open at once per worker process (beyond: the browser polls instead).
    CHAT_MAX_STREAMS = _env_int("CHAT_MAX_STREAMS", 16)
    CHAT_MAX_MESSAGE = _env_int("CHAT_MAX_MESSAGE", 2000)
    CHAT_MESSAGES_PER_MINUTE = _env_int("CHAT_MESSAGES_PER_MINUTE", 20)
    CHAT_CHANNEL_PREFIX = _env("CHAT_CHANNEL_PREFIX", "civic311:")
    RATELIMIT_CHAT_START = _env("RATELIMIT_CHAT_START", "10 per hour")

    # The phone's outbox gives up on one send after this many seconds (plus upload time
    # for its photos) and retries it with backoff, so a silent server cannot stall it.
    OUTBOX_SEND_TIMEOUT = float(_env("OUTBOX_SEND_TIMEOUT", "30"))

    # E-mail out (every message goes through the notification outbox). Without
    # MAIL_SERVER every message is written as an .eml file into the instance folder's
    # mail/ directory (and logged) instead of being sent.
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Civic311 <311@chattanooga.example>")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 20)
    # One front door: the public address links in e-mails start with (unset: https://
    # and the first TRUSTED_HOSTS name; required outside debug; never the request's Host).
    PUBLIC_URL = _env("PUBLIC_URL")

    # Mail anyone can set off (sign-in link, alert and report confirmations) to an
    # address nobody has confirmed: at most this many per recipient, from any sender.
    MAIL_UNCONFIRMED_PER_HOUR = _env_int("MAIL_UNCONFIRMED_PER_HOUR", 3)
    MAIL_UNCONFIRMED_PER_DAY = _env_int("MAIL_UNCONFIRMED_PER_DAY", 6)

    # E-mail in: the 311 mailbox the intake polls (off while IMAP_HOST is unset).
    IMAP_HOST = _env("IMAP_HOST")
    IMAP_PORT = _env_int("IMAP_PORT", 993)
    IMAP_USER = _env("IMAP_USER")
    IMAP_PASSWORD = _env("IMAP_PASSWORD")
    IMAP_FOLDER = _env("IMAP_FOLDER", "INBOX")
    IMAP_SSL = _env_bool("IMAP_SSL", True)
    MAIL_INTAKE_PER_SENDER_PER_DAY = _env_int("MAIL_INTAKE_PER_SENDER_PER_DAY", 10)
    # More of the city's own addresses (the sender always counts): never taken in.
    MAIL_INTAKE_OWN_ADDRESSES = _env("MAIL_INTAKE_OWN_ADDRESSES", "")
    OPEN311_MAX_IDS = _env_int("OPEN311_MAX_IDS", 20_000)
    OPEN311_MAX_QUERY_BYTES = _env_int("OPEN311_MAX_QUERY_BYTES", 512 * 1024)
    OPEN311_EXTENDED_STATUSES = _env_bool("OPEN311_EXTENDED_STATUSES", False)
    MEDIA_FETCH_TIMEOUT = float(_env("MEDIA_FETCH_TIMEOUT", "5"))
    MEDIA_FETCH_MAX_MB = _env_int("MEDIA_FETCH_MAX_MB", 12)
    MEDIA_FETCH_ALLOW_HOSTS = _env("MEDIA_FETCH_ALLOW_HOSTS", "")
    FORWARD_TIMEOUT = float(_env("FORWARD_TIMEOUT", "10"))
    FORWARD_MAX_ATTEMPTS = _env_int("FORWARD_MAX_ATTEMPTS", 8)
    FORWARD_CRM_NOTIFIES_RESIDENTS = _env_bool("FORWARD_CRM_NOTIFIES_RESIDENTS", False)
    FORWARD_NOT_PINPOINTED = _env("FORWARD_NOT_PINPOINTED", "address")
    FORWARD_CITY_CENTRE = _env("FORWARD_CITY_CENTRE", "")
    FORWARD_PHOTO_LINK_DAYS = _env_int("FORWARD_PHOTO_LINK_DAYS", 30)

    # Text messages (SMS/MMS) through Twilio: the door is off (``/sms/incoming`` is a 404)
    # until the account, its token and the city's number are all set.
    TWILIO_ACCOUNT_SID = _env("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = _env("TWILIO_FROM_NUMBER")
    # Where the REST API is (unset: Twilio's own); a test points it at a local fake.
    TWILIO_API_BASE = _env("TWILIO_API_BASE")
    TEXT_TIMEOUT = float(_env("TEXT_TIMEOUT", "10"))
    # No text notification between these hours, city time ("21-8": held until 8:00).
    TEXT_QUIET_HOURS = _env("TEXT_QUIET_HOURS", "21-8")
    # At most this many text notifications to one number per day (the rest wait a day).
    TEXT_DAILY_CAP = _env_int("TEXT_DAILY_CAP", 5)
    # A conversation left this long without an answer starts over.
    TEXT_IDLE_MINUTES = _env_int("TEXT_IDLE_MINUTES", 30)
    # More messages than this from one number in a minute get one polite refusal.
    TEXT_PER_NUMBER_PER_MINUTE = _env_int("TEXT_PER_NUMBER_PER_MINUTE", 10)

    # Operations: log lines, who may scrape /metrics, how long contact details are kept.
    LOG_FORMAT = _env("LOG_FORMAT")
    METRICS_ALLOW = _env("METRICS_ALLOW", "127.0.0.1/32,::1/128")
    METRICS_TOKEN = _env("METRICS_TOKEN")
    CONTACT_RETENTION_MONTHS = _env_int("CONTACT_RETENTION_MONTHS", 24)

    # City packs and imports (see docs/city-packs.md).
    CITY_SETTINGS_TTL = _env_int("CITY_SETTINGS_TTL", 10)
    IMPORT_TIMEOUT = float(_env("IMPORT_TIMEOUT", "20"))
    IMPORT_MAX_PAGES = _env_int("IMPORT_MAX_PAGES", 10_000)


class TestingConfig(Config):
    """Settings for the test suite: no network, no environment needed, a throwaway database."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    # scrypt with a small work factor: the suite makes and checks thousands of passwords
    # (read only when TESTING is on; see domain.people.accounts.password_method).
    TEST_PASSWORD_METHOD = "scrypt:1024:8:1"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False
    BACKGROUND_WORKER = "off"
    GEOCODER_DOMAIN = "127.0.0.1:9"
    GEOCODER_SCHEME = "http"
    GEOCODER_MIN_DELAY = 0.0
    GEOCODER_TIMEOUT = 0.5
    TILE_URL = "/static/icons/blank-tile.png?{z}/{x}/{y}"
    VAPID_SUBJECT = "mailto:test@civic311.example"
    # The local fake push service (tests/fakes/push_service.py) is allowed explicitly.
    PUSH_SERVICES = [*DEFAULT_PUSH_SERVICES, "http://127.0.0.1"]
    MAIL_SERVER = None
    MAIL_DEFAULT_SENDER = "Civic311 Test <311@civic311.example>"
    MAIL_TIMEOUT = 5
    PUBLIC_URL = None
    IMAP_HOST = None
    MEDIA_FETCH_TIMEOUT = 2.0
    CITY_SETTINGS_TTL = 0
    # A pack applied in a test keeps the local tiles, geocoder and addresses.
    CITY_PACK_KEEPS = ("TILE_URL", "GEOCODER_DOMAIN", "GEOCODER_SCHEME", "PUBLIC_URL")
    IMPORT_TIMEOUT = 2.0
    TWILIO_ACCOUNT_SID = None
    TWILIO_AUTH_TOKEN = None
    TWILIO_FROM_NUMBER = None
    TWILIO_API_BASE = None
    TEXT_TIMEOUT = 2.0
    # Small enough that a test reaches it with a few dozen requests.
    EXPORT_MAX_ROWS = 50
    # The chat desk is always open unless a test closes it; a stream sends what it has
    # and ends (a test that needs a live stream sets CHAT_STREAM_SECONDS itself).
    CHAT_DESK_HOURS = "always"
    CHAT_STREAM_SECONDS = 0.0
    CHAT_POLL_SECONDS = 0.05
