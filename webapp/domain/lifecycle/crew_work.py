"""My work: the open requests a crew member carries on their phone, and the order to visit them.

"My work" is every open request assigned to the staff member, plus the unassigned open
requests of their department (their crew's). The phone keeps this list (with photos,
notes, answers and history) so it opens with no signal.

The route is a greedy nearest-neighbour tour from where the crew stands: the nearest
stop first, then the nearest to that one, and so on. For a few dozen stops it is
instant and usually within a quarter of the best tour; requests with no location come
last, soonest due first. The phone orders the list itself with the same rule (it knows
where it is; the server does not), see ``static/js/staff-work-core.js``.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from webapp.content_i18n import localized
from webapp.domain.geo import places
from webapp.models import Role, ServiceRequest, Status, User, w3c
from webapp.plumbing.extensions import db

OPEN_STATUSES = (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
MAX_STOPS = 100


def my_work(user: User) -> list[ServiceRequest]:
    """The open requests assigned to ``user`` or unassigned in their department."""
    mine = ServiceRequest.assignee_id == user.id
    crew = (
        and_(ServiceRequest.department_id == user.department_id, ServiceRequest.assignee_id.is_(None))
        if user.department_id
        else None
    )
    return db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.detailed_status.in_(OPEN_STATUSES), or_(mine, crew) if crew is not None else mine)
        .options(
            selectinload(ServiceRequest.events),
            selectinload(ServiceRequest.photos),
            selectinload(ServiceRequest.service),
        )
        .order_by(ServiceRequest.expected_at.asc().nulls_last(), ServiceRequest.id)
        .limit(MAX_STOPS)
    ).all()


def route(stops: list[tuple], start: tuple[float, float] | None) -> list:
    """Greedy nearest-neighbour order of ``stops`` given as (key, lat, long) from ``start``.

    Stops without coordinates keep their order at the end. Without a start the tour
    begins at the first located stop.
    """
    located = [s for s in stops if s[1] is not None and s[2] is not None]
    unplaced = [s[0] for s in stops if s[1] is None or s[2] is None]
    order = []
    here = start
    while located:
        if here is None:
            nearest = located[0]
        else:
            nearest = min(located, key=lambda s: places.distance_m(here[0], here[1], s[1], s[2]))
        located.remove(nearest)
        order.append(nearest[0])
        here = (nearest[1], nearest[2])
    return order + unplaced


def colleagues() -> list[User]:
    """The staff a request can be handed to."""
    return db.session.scalars(
        select(User)
        .where(User.role.in_((Role.STAFF, Role.ADMIN)), User.active.is_(True))
        .order_by(User.display_name)
    ).all()


def request_card(req: ServiceRequest, photo_url) -> dict:
    """Everything the phone keeps about one request (``photo_url(key)`` makes photo links)."""
    return {
        "public_id": req.public_id,
        "service": localized(req.service, "name"),
        "status": req.detailed_status,
        "assignee_id": req.assignee_id,
        "closed": req.is_closed,
        "lat": req.lat,
        "long": req.long,
        "address": req.address or req.landmark or "",
        "description": req.description or "",
        "due": w3c(req.expected_at),
        "answers": {str(k): v for k, v in (req.attribute_values or {}).items()},
        "photos": [
            {"thumb": photo_url(p.thumb_key), "kind": p.kind} for p in req.photos
        ],
        "history": [
            {
                "kind": e.kind,
                "note": e.note,
                "public": e.public,
                "to_status": e.to_status,
                "at": w3c(e.created_at),
            }
            for e in req.events
        ],
    }
