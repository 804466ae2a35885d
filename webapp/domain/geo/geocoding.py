"""Addresses from the geocoder (geopy's Nominatim), always behind this one module.

- ``search(q)`` finds addresses for the report form, biased to (and bounded by) the
  city's bounding box. ``reverse(lat, long)`` names the street at a point.
- Domain, scheme, user agent, timeout and the minimum delay between calls come from
  configuration (``GEOCODER_*``); calls go through geopy's ``RateLimiter``; answers are
  cached for a day. Everything fails soft: when the geocoder is down or slow the caller
  gets ``None`` and carries on.
- Submission never waits on the geocoder. ``geocode_pending`` fills in the address of
  requests after they are committed; it runs as the ``geocode`` background job and as
  ``flask --app webapp geocode-pending``, and retries with backoff when the geocoder is
  down (a circuit breaker stops a batch at the first outage, so one outage costs one
  attempt rather than one per waiting request).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from sqlalchemy import and_, or_, select

from webapp.domain.geo import places
from webapp.models import GeocodeState, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

CACHE_SECONDS = 24 * 3600
CACHE_SIZE = 2048
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
BREAKER_FIRST_SECONDS = 30.0
BREAKER_MAX_SECONDS = 1800.0
MAX_QUERY = 200


class GeocoderDown(Exception):
    """The geocoder did not answer (error, refusal or timeout)."""


@dataclass(frozen=True)
class Place:
    """An address and where it is."""

    label: str
    lat: float
    long: float
    zipcode: str | None = None


class _TTLCache:
    """A small thread-safe cache whose entries expire, oldest dropped first when full."""

    def __init__(self, size: int, seconds: float):
        self.size, self.seconds = size, seconds
        self.items: dict = {}
        self.lock = threading.Lock()

    def get(self, key):
        """The cached value, or KeyError when missing or expired."""
        with self.lock:
            expires, value = self.items[key]
            if expires < time.monotonic():
                del self.items[key]
                raise KeyError(key)
            return value

    def put(self, key, value) -> None:
        """Remember ``value`` for ``seconds``."""
        with self.lock:
            if len(self.items) >= self.size:
                self.items.pop(next(iter(self.items)))
            self.items[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.items.clear()


@dataclass
class _Breaker:
    """Stops calling a geocoder that is down, for longer each time it stays down."""

    until: float = 0.0
    wait: float = BREAKER_FIRST_SECONDS

    def open(self) -> bool:
        """True while calls should be skipped."""
        return time.monotonic() < self.until

    def trip(self) -> None:
        """Record an outage: skip calls for a while, longer next time."""
        self.until = time.monotonic() + self.wait
        self.wait = min(self.wait * 2, BREAKER_MAX_SECONDS)

    def reset(self) -> None:
        """The geocoder answered: call it freely again."""
        self.until, self.wait = 0.0, BREAKER_FIRST_SECONDS


_cache = _TTLCache(CACHE_SIZE, CACHE_SECONDS)
_breaker = _Breaker()


def reset() -> None:
    """Forget cached answers and outages (tests, and after changing the geocoder)."""
    _cache.clear()
    _breaker.reset()
    _client.cache_clear()


@lru_cache(maxsize=8)
def _client(
    domain: str, scheme: str, user_agent: str, timeout: float, min_delay: float
) -> tuple[RateLimiter, RateLimiter]:
    """Rate-limited geocode and reverse callables for one configuration."""
    geocoder = Nominatim(domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout)
    options = {"min_delay_seconds": min_delay, "max_retries": 0, "swallow_exceptions": False}
    return RateLimiter(geocoder.geocode, **options), RateLimiter(geocoder.reverse, **options)


def _settings() -> tuple[str, str, str, float, float]:
    """The geocoder settings of the current app, as a hashable tuple."""
    config = current_app.config
    return (
        config["GEOCODER_DOMAIN"],
        config["GEOCODER_SCHEME"],
        config["GEOCODER_USER_AGENT"],
        float(config["GEOCODER_TIMEOUT"]),
        float(config["GEOCODER_MIN_DELAY"]),
    )


def _label(raw: dict) -> str:
    """A short address: "123 Main Street, Chattanooga", else Nominatim's long name."""
    address = raw.get("address") or {}
    street = " ".join(p for p in (address.get("house_number"), address.get("road")) if p)
    town = address.get("city") or address.get("town") or address.get("village")
    short = ", ".join(p for p in (street or address.get("amenity"), town) if p)
    return (short or raw.get("display_name") or "")[:255]


def _place(location) -> Place:
    """A geopy Location as our Place."""
    raw = location.raw
    zipcode = (raw.get("address") or {}).get("postcode")
    return Place(
        _label(raw),
        round(float(location.latitude), 7),
        round(float(location.longitude), 7),
        zipcode[:12] if zipcode else None,
    )


def _call(key: tuple, call):
    """Answer from the cache, else call the geocoder and cache the answer."""
    try:
        return _cache.get(key)
    except KeyError:
        pass
    try:
        answer = call()
    except (GeopyError, OSError) as error:
        current_app.logger.warning("geocoder unavailable: %s", error)
        raise GeocoderDown(str(error)) from None
    _cache.put(key, answer)
    return answer


def search_or_raise(query: str, *, limit: int = 5) -> list[Place]:
    """Addresses matching ``query`` inside the city's bounding box; GeocoderDown if down."""
    settings = _settings()
    geocode, _reverse = _client(*settings)
    options: dict = {"exactly_one": False, "limit": limit, "addressdetails": True}
    boundary = places.city_boundary()
    if boundary is not None:
        min_lat, min_long, max_lat, max_long = places.geojson_bbox(boundary.geojson)
        options.update(viewbox=[(min_lat, min_long), (max_lat, max_long)], bounded=True)
    key = ("search", settings[0], query.strip().lower(), limit, str(options.get("viewbox")))
    found = _call(key, lambda: geocode(query.strip(), **options)) or []
    return [_place(location) for location in found]


def search(query: str, *, limit: int = 5) -> list[Place] | None:
    """Like ``search_or_raise`` but fails soft: None when the geocoder is down."""
    try:
        return search_or_raise(query, limit=limit)
    except GeocoderDown:
        return None


def reverse_or_raise(lat: float, long: float) -> Place | None:
    """The address at a point (None when there is none); GeocoderDown when down."""
    settings = _settings()
    _geocode, reverse_ = _client(*settings)
    key = ("reverse", settings[0], round(lat, 5), round(long, 5))
    found = _call(
        key, lambda: reverse_((lat, long), exactly_one=True, addressdetails=True, zoom=18)
    )
    return _place(found) if found is not None else None


def reverse(lat: float, long: float) -> Place | None:
    """The address at a point, or None when there is none or the geocoder is down."""
    try:
        return reverse_or_raise(lat, long)
    except GeocoderDown:
        return None


def _due(request: ServiceRequest, now) -> bool:
    """Pending requests are due at once; failed ones after 1, 4, 16, 64… minutes."""
    if request.geocode_state == GeocodeState.PENDING:
        return True
    wait = RETRY_BASE * 4 ** max(request.geocode_attempts - 1, 0)
    return request.received_at + wait <= now


def geocode_pending(limit: int = 20) -> int:
    """Fill in the address of up to ``limit`` committed requests; returns how many.

    Each request is committed on its own, so a crash loses at most one answer. When the
    geocoder is down the request's attempt is counted, the batch stops and the breaker
    keeps later runs from calling it for a while; after ``MAX_ATTEMPTS`` a request stays
    ``failed`` (staff still see its pin and landmark).
    """
    if _breaker.open():
        return 0
    now = utcnow()
    candidates = db.session.scalars(
        select(ServiceRequest)
        .where(
            or_(
                ServiceRequest.geocode_state == GeocodeState.PENDING,
                and_(
                    ServiceRequest.geocode_state == GeocodeState.FAILED,
                    ServiceRequest.geocode_attempts < MAX_ATTEMPTS,
                ),
            )
        )
        .order_by(ServiceRequest.id)
        .limit(limit * 5)
    ).all()
    done = 0
    for request in candidates:
        if done >= limit:
            break
        if not _due(request, now):
            continue
        try:
            place = reverse_or_raise(request.lat, request.long)
        except GeocoderDown:
            request.geocode_attempts += 1
            request.geocode_state = GeocodeState.FAILED
            db.session.commit()
            _breaker.trip()
            break
        _breaker.reset()
        if place is None:
            request.geocode_state = GeocodeState.FAILED
            request.geocode_attempts = MAX_ATTEMPTS
        else:
            request.address = request.address or place.label or None
            request.zipcode = request.zipcode or place.zipcode
            request.geocode_state = GeocodeState.DONE
        db.session.commit()
        done += 1
    return done
