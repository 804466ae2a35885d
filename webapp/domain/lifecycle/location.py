"""Putting a request on the map: a report that came without a pin (a phone call, an
e-mail, a landmark only) gets its place from staff.

The point must be inside the city; it sets the neighborhood, and the address is looked up
after commit when there is none yet. A private timeline entry that publishes ``Moved``.
"""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.domain import events
from webapp.domain.errors import DomainError
from webapp.domain.geo import places
from webapp.domain.lifecycle.timeline import record
from webapp.models import EventKind, GeocodeState, RequestEvent, ServiceRequest, User


def place(request: ServiceRequest, actor: User, lat: float, long: float) -> RequestEvent:
    """Staff put a request that needs a location on the map (a private timeline entry).

    The point must be inside the city; the address is then looked up after commit.
    """
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise DomainError(_("That is not a position on the map."), field="lat")
    places.check_inside_city(lat, long)
    request.lat, request.long = lat, long
    request.needs_location = False
    request.neighborhood = places.neighborhood_for(lat, long)
    if not request.address:
        request.geocode_state = GeocodeState.PENDING
    return record(
        request,
        EventKind.PRIVATE_NOTE,
        actor=actor,
        note=_("Location set on the map."),
        public=False,
        data={"lat": lat, "long": long},
        announce=events.Moved,
    )
