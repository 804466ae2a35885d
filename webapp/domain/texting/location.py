"""Where a texted report is: a location a phone shared (a map link or a ``geo:`` URI), or
an address or landmark found by the city's geocoder, always inside the city.

Phones share a place as a link: ``https://maps.google.com/?q=35.04,-85.30``,
``https://www.google.com/maps/@35.04,-85.30,17z``, ``https://maps.apple.com/?ll=35.04,-85.30``
(or ``q=``/``sll=``), or a ``geo:35.04,-85.30`` URI. Anything else is looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.domain.errors import DomainError
from webapp.domain.geo import geocoding, places

NUMBER = r"(-?\d{1,3}(?:\.\d+)?)"
PAIR = NUMBER + r"\s*,\s*" + NUMBER
SHARED = [
    re.compile(r"\bgeo:" + PAIR, re.I),
    re.compile(r"maps\.(?:google|apple)\.[a-z.]+/\S*?[?&](?:q|ll|sll|daddr|query)=" + PAIR, re.I),
    re.compile(r"google\.[a-z.]+/maps/\S*?@" + PAIR, re.I),
    re.compile(r"google\.[a-z.]+/maps\S*?[?&](?:q|query|ll)=" + PAIR, re.I),
]
MAX_LOOKUP = 200


@dataclass(frozen=True)
class Found:
    """A place inside the city; ``label`` is what the resident is told (and stored)."""

    lat: float
    long: float
    label: str | None


def shared_point(text: str) -> tuple[float, float] | None:
    """The coordinates of a shared map link or ``geo:`` URI in ``text``, if any."""
    for pattern in SHARED:
        found = pattern.search(text or "")
        if found:
            lat, long = float(found.group(1)), float(found.group(2))
            if -90 <= lat <= 90 and -180 <= long <= 180:
                return lat, long
    return None


def inside(lat: float, long: float) -> bool:
    """Whether the point is inside the city's boundary."""
    try:
        places.check_inside_city(lat, long)
    except DomainError:
        return False
    return True


def find(text: str) -> tuple[Found | None, str]:
    """The place ``text`` names, and why not when there is none: ``outside`` (found, but
    not in the city), ``unknown`` (nothing found) or ``down`` (the geocoder did not
    answer)."""
    point = shared_point(text)
    if point is not None:
        if inside(*point):
            return Found(point[0], point[1], None), ""
        return None, "outside"
    query = " ".join((text or "").split())[:MAX_LOOKUP]
    if len(query) < 3:
        return None, "unknown"
    results = geocoding.search(query, limit=3)
    if results is None:
        return None, "down"
    outside = False
    for place in results:
        if inside(place.lat, place.long):
            return Found(place.lat, place.long, place.label), ""
        outside = True
    return None, "outside" if outside else "unknown"
