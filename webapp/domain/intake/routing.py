"""Routing rules: which department (and person) a new request goes to.

An ordered list of (service, neighborhood or drawn area) → department and optional
assignee. Empty service or area means "any". The first active rule that matches wins;
with none, the service's own department keeps the request. Rules apply when a request
is created, from every channel (routing subscribes to ``events.ServiceChosen``), and
again when staff move it to another service (``recategorise``, which publishes
``events.Recategorised`` so a new CRM hears of it).
"""

from __future__ import annotations

import json

from flask_babel import gettext as _
from shapely.geometry import shape
from sqlalchemy import func, select

from webapp.domain import events
from webapp.domain.errors import DomainError, NotAllowed, NotFound
from webapp.domain.geo import places
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.lifecycle import timeline
from webapp.models import (
    Department,
    EventKind,
    Neighborhood,
    RoutingRule,
    Service,
    ServiceRequest,
    User,
)
from webapp.plumbing.extensions import db


def ordered_rules(*, active_only: bool = False) -> list[RoutingRule]:
    """Every rule in the order it is tried."""
    query = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    if active_only:
        query = query.where(RoutingRule.active.is_(True))
    return list(db.session.scalars(query))


def matches(
    rule: RoutingRule,
    service_id: int,
    lat: float | None,
    long: float | None,
    neighborhood_id: int | None,
) -> bool:
    """True when ``rule`` covers a request of that service at that spot.

    A request without coordinates yet ("needs location") is in no neighborhood and in
    no drawn area, so only rules for any place can match it.
    """
    if rule.service_id is not None and rule.service_id != service_id:
        return False
    if rule.neighborhood_id is not None and rule.neighborhood_id != neighborhood_id:
        return False
    if not rule.area_geojson:
        return True
    if lat is None or long is None:
        return False
    return places.contains(rule.area_geojson, lat, long)


def first_match(
    service_id: int, lat: float | None, long: float | None, neighborhood_id: int | None
) -> RoutingRule | None:
    """The first active rule that matches, or None."""
    for rule in ordered_rules(active_only=True):
        if matches(rule, service_id, lat, long, neighborhood_id):
            return rule
    return None


def route(request: ServiceRequest) -> RoutingRule | None:
    """Set the request's department and assignee from the rules (or the service's default)."""
    service = request.service or db.session.get(Service, request.service_id)
    rule = first_match(
        service.id,
        request.lat,
        request.long,
        request.neighborhood.id if request.neighborhood else request.neighborhood_id,
    )
    if rule is None:
        request.department_id = service.department_id
        request.assignee = None
        return None
    request.department_id = rule.department_id
    request.assignee = rule.assignee
    return rule


def recategorise(request: ServiceRequest, service: Service, actor: User) -> None:
    """Move a request to another service and route it again (a private timeline entry)."""
    if request.is_closed:
        raise NotAllowed(_("A closed request cannot change its category."))
    if service.id == request.service_id:
        raise DomainError(_("The request already has that category."), field="service")
    previous = request.service.service_code if request.service else None
    request.service = service
    request.expected_at = requests_domain.expected_datetime(service, request.received_at)
    rule = route(request)
    timeline.record(
        request,
        EventKind.ASSIGNED,
        actor=actor,
        public=False,
        data={
            "recategorised_from": previous,
            "service": service.service_code,
            "department_id": request.department_id,
            "assignee": request.assignee.display_name if request.assignee else None,
            "rule_id": rule.id if rule else None,
        },
        announce=events.Recategorised,
    )


def _area(raw: str | dict | None) -> dict | None:
    """A drawn area as a GeoJSON Polygon/MultiPolygon, or a clear refusal."""
    if raw in (None, "", {}):
        return None
    try:
        geojson = json.loads(raw) if isinstance(raw, str) else raw
        if geojson.get("type") == "Feature":
            geojson = geojson["geometry"]
        geometry = shape(geojson)
    except Exception:  # noqa: BLE001 - any parse failure is the same refusal
        raise DomainError(_("The area must be a GeoJSON polygon."), field="area_geojson") from None
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
        raise DomainError(_("The area must be a GeoJSON polygon."), field="area_geojson")
    if geometry.is_empty or geometry.area == 0:
        # An empty area would match no request and silently route nothing.
        raise DomainError(_("The area must be a GeoJSON polygon."), field="area_geojson")
    return geojson


def save_rule(
    *,
    department_id: int | None,
    service_id: int | None = None,
    neighborhood_id: int | None = None,
    area_geojson: str | dict | None = None,
    assignee_id: int | None = None,
    name: str = "",
    active: bool = True,
    rule: RoutingRule | None = None,
) -> RoutingRule:
    """Create or change a rule; a new rule goes to the end of the list."""
    department = db.session.get(Department, department_id) if department_id else None
    if department is None:
        raise DomainError(_("Please choose the department."), field="department_id")
    if service_id and db.session.get(Service, service_id) is None:
        raise DomainError(_("That service does not exist."), field="service_id")
    if neighborhood_id and db.session.get(Neighborhood, neighborhood_id) is None:
        raise DomainError(_("That neighborhood does not exist."), field="neighborhood_id")
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    if assignee_id and (assignee is None or not assignee.is_staff):
        raise DomainError(_("Requests can only be assigned to city staff."), field="assignee_id")
    area = _area(area_geojson)
    if rule is None:
        last = db.session.scalar(select(func.max(RoutingRule.position)))
        rule = RoutingRule(position=(last or 0) + 1)
        db.session.add(rule)
    rule.name = (name or "").strip()[:120]
    rule.department_id = department.id
    rule.service_id = service_id or None
    rule.neighborhood_id = neighborhood_id or None
    rule.area_geojson = area
    rule.assignee_id = assignee.id if assignee else None
    rule.active = bool(active)
    db.session.flush()
    return rule


def move(rule_id: int, direction: int) -> None:
    """Move a rule one place up (-1) or down (+1); positions are renumbered 1..n."""
    rules = ordered_rules()
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise NotFound(_("That routing rule does not exist."))
    target = index + (-1 if direction < 0 else 1)
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    for position, rule in enumerate(rules, 1):
        rule.position = position
    db.session.flush()


def delete(rule_id: int) -> None:
    """Remove a rule."""
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("That routing rule does not exist."))
    db.session.delete(rule)
    db.session.flush()
