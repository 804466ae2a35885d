"""What an admin manages: services and their attributes, departments, neighborhoods,
accounts and roles, response templates. Views parse forms; the checks live here."""

from __future__ import annotations

import json
import re

from flask_babel import gettext as _
from shapely.geometry import shape
from sqlalchemy import func, select

from webapp.domain import service_levels
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.geo import places
from webapp.models import (
    Department,
    Neighborhood,
    ResponseTemplate,
    Role,
    Service,
    ServiceAttribute,
    User,
)
from webapp.plumbing.extensions import db

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
MAX_GEOJSON_BYTES = 2_000_000


def _taken(model, column, value, own_id: int | None) -> bool:
    query = select(model.id).where(func.lower(column) == value.lower())
    if own_id is not None:
        query = query.where(model.id != own_id)
    return db.session.scalar(query) is not None


def save_department(
    name: str, email: str | None = None, phone: str | None = None, *, department=None
) -> Department:
    """Create or rename a department; names are unique."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please give the department a name."), field="name")
    if _taken(Department, Department.name, name, department.id if department else None):
        raise DomainError(_("A department with that name already exists."), field="name")
    department = department or Department()
    department.name, department.email, department.phone = name, email or None, phone or None
    db.session.add(department)
    db.session.flush()
    return department


def save_service(values: dict, *, service: Service | None = None) -> Service:
    """Create or update a service from plain values; the code is unique and URL-safe."""
    code = (values.get("service_code") or "").strip().lower()
    if not CODE_PATTERN.match(code):
        raise DomainError(
            _("The code may use lower-case letters, digits, dots, dashes and underscores."),
            field="service_code",
        )
    if _taken(Service, Service.service_code, code, service.id if service else None):
        raise DomainError(_("A service with that code already exists."), field="service_code")
    name = (values.get("name") or "").strip()
    if not name:
        raise DomainError(_("Please give the service a name."), field="name")
    sla = values.get("sla_days")
    if sla is not None and not (0 < int(sla) <= 365):
        raise DomainError(_("The SLA must be between 1 and 365 days."), field="sla_days")
    unit = values.get("sla_unit") or service_levels.CALENDAR_DAYS
    if unit not in service_levels.UNITS:
        raise DomainError(_("Please choose how the target is counted."), field="sla_unit")
    hours = values.get("sla_hours")
    if hours is not None and not (0 < int(hours) <= 2000):
        raise DomainError(
            _("The target must be between 1 and 2000 business hours."), field="sla_hours"
        )
    if unit == service_levels.BUSINESS_HOURS and not hours:
        raise DomainError(_("Please give the target in business hours."), field="sla_hours")
    service = service or Service()
    service.sla_unit = unit
    service.sla_hours = int(hours) if hours else None
    service.service_code = code
    service.name = name
    service.description = (values.get("description") or "").strip()
    service.group = (values.get("group") or "").strip()
    service.keywords = (values.get("keywords") or "").strip()
    service.department_id = values.get("department_id") or None
    service.sla_days = int(sla) if sla else None
    service.active = bool(values.get("active"))
    service.public = bool(values.get("public"))
    db.session.add(service)
    db.session.flush()
    return service


def parse_values(raw: str) -> list[dict]:
    """List values from lines of ``key=Name`` (or just ``key``)."""
    values = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        key, _sep, name = line.partition("=")
        values.append({"key": key.strip(), "name": (name or key).strip()})
    return values


def _attribute_fields(service: Service, values: dict, editing: ServiceAttribute | None) -> dict:
    """Checked fields of a question (code, type, required, wording, choices)."""
    code = (values.get("code") or "").strip().lower()
    if not CODE_PATTERN.match(code):
        raise DomainError(
            _("The code may use lower-case letters, digits, dots, dashes and underscores."),
            field="code",
        )
    if any(a.code == code and a is not editing for a in service.attributes):
        raise DomainError(_("This service already has a question with that code."), field="code")
    datatype = values.get("datatype") or "string"
    if datatype not in DATATYPES:
        raise DomainError(_("Unknown answer type."), field="datatype")
    options = parse_values(values.get("values") or "")
    if datatype.endswith("valuelist") and not options:
        raise DomainError(_("A list question needs at least one choice."), field="values")
    description = (values.get("description") or "").strip()
    if not description:
        raise DomainError(_("Please write the question."), field="description")
    return {
        "code": code,
        "datatype": datatype,
        "required": bool(values.get("required")),
        "description": description,
        "values": options,
    }


def add_attribute(service: Service, values: dict) -> ServiceAttribute:
    """Add an Open311 attribute (an extra question) to a service."""
    fields = _attribute_fields(service, values, None)
    attribute = ServiceAttribute(variable=True, order=len(service.attributes) + 1, **fields)
    service.attributes.append(attribute)
    db.session.flush()
    return attribute


def find_attribute(service: Service, attribute_id: int) -> ServiceAttribute:
    """The service's question with that id, or a 404 refusal."""
    for attribute in service.attributes:
        if attribute.id == attribute_id:
            return attribute
    raise DomainError(_("That question does not belong to this service."), status=404)


def update_attribute(service: Service, attribute_id: int, values: dict) -> ServiceAttribute:
    """Change a question's code, wording, type, choices or whether it is required.

    Answers already given stay on the requests as they were.
    """
    attribute = find_attribute(service, attribute_id)
    for name, value in _attribute_fields(service, values, attribute).items():
        setattr(attribute, name, value)
    db.session.flush()
    return attribute


def values_text(attribute: ServiceAttribute) -> str:
    """A question's choices as the admin form writes them: one ``key=Name`` a line."""
    return "\n".join(f"{v.get('key')}={v.get('name')}" for v in attribute.values or [])


def remove_attribute(service: Service, attribute_id: int) -> None:
    """Remove a question from a service (answers already given stay on the requests)."""
    for attribute in list(service.attributes):
        if attribute.id == attribute_id:
            service.attributes.remove(attribute)
            db.session.flush()
            return
    raise DomainError(_("That question does not belong to this service."), status=404)


def parse_polygon(raw: bytes | str) -> dict:
    """A valid Polygon or MultiPolygon geometry from GeoJSON text (geometry, Feature or
    a FeatureCollection with one feature), or a clear refusal."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_GEOJSON_BYTES:
            raise DomainError(_("That GeoJSON file is too large."), field="geojson")
        raw = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError:
        raise DomainError(_("That file is not valid GeoJSON."), field="geojson") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise DomainError(
                _("Please upload exactly one neighborhood shape per file."), field="geojson"
            )
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise DomainError(_("The GeoJSON must be a Polygon or MultiPolygon."), field="geojson")
    try:
        geometry = shape(data)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise DomainError(_("The polygon's coordinates cannot be read."), field="geojson") from None
    if geometry.is_empty or not geometry.is_valid:
        raise DomainError(_("The polygon is not valid (it may cross itself)."), field="geojson")
    min_long, min_lat, max_long, max_lat = geometry.bounds
    if not (-180 <= min_long <= max_long <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise DomainError(
            _("The coordinates must be longitude, latitude in degrees."), field="geojson"
        )
    return data


def save_neighborhood(
    name: str, geojson: dict | None, *, neighborhood: Neighborhood | None = None
) -> Neighborhood:
    """Create a neighborhood or update its name and shape; the bounding box follows."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please give the neighborhood a name."), field="name")
    if _taken(Neighborhood, Neighborhood.name, name, neighborhood.id if neighborhood else None):
        raise DomainError(_("A neighborhood with that name already exists."), field="name")
    if neighborhood is None and geojson is None:
        raise DomainError(_("Please upload the neighborhood's shape."), field="geojson")
    neighborhood = neighborhood or Neighborhood()
    neighborhood.name = name
    neighborhood.slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "area"
    if geojson is not None:
        neighborhood.geojson = geojson
        (
            neighborhood.min_lat,
            neighborhood.min_long,
            neighborhood.max_lat,
            neighborhood.max_long,
        ) = places.geojson_bbox(geojson)
    db.session.add(neighborhood)
    db.session.flush()
    return neighborhood


def update_user(
    user: User,
    actor: User,
    *,
    role: str,
    active: bool,
    neighborhood_id: int | None = None,
    department_id: int | None = None,
    supervisor: bool | None = None,
) -> User:
    """Change an account's role, neighborhood, department, supervisor or active flag.

    Admins cannot demote or deactivate themselves, so the city never locks itself out.
    """
    if role not in {r.value for r in Role}:
        raise DomainError(_("Unknown role %(role)s.", role=role), field="role")
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise NotAllowed(_("You cannot remove your own admin access."), field="role")
    if role == Role.LIAISON and not neighborhood_id:
        raise DomainError(_("A liaison needs a neighborhood."), field="neighborhood_id")
    user.role = role
    user.active = active
    user.neighborhood_id = neighborhood_id or None
    user.department_id = department_id or None
    if supervisor is not None:
        if supervisor and (role not in (Role.STAFF, Role.ADMIN) or not user.department_id):
            raise DomainError(
                _("A supervisor is a staff member with a department."), field="supervisor"
            )
        user.supervisor = supervisor
    db.session.flush()
    return user


def save_template(values: dict) -> ResponseTemplate:
    """A canned public note for a service (or all) and a target status (or any)."""
    title = (values.get("title") or "").strip()
    body = (values.get("body") or "").strip()
    if not title or not body:
        raise DomainError(_("A template needs a title and a text."), field="body")
    template = ResponseTemplate(
        title=title[:120],
        body=body,
        service_id=values.get("service_id") or None,
        status=values.get("status") or None,
    )
    db.session.add(template)
    db.session.flush()
    return template


def save_forward_target(values: dict, *, target=None):
    """Add or change the city CRM a department's (or a service's) requests go to.

    Exactly one of department and service; an http(s) endpoint; one target each.
    """
    from urllib.parse import urlsplit

    from webapp.models import ForwardTarget

    department_id, service_id = values.get("department_id"), values.get("service_id")
    if (department_id is None) == (service_id is None):
        raise DomainError(
            _("Choose either a department or a service."), field="department_id"
        )
    endpoint = (values.get("endpoint") or "").strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError(_("The endpoint must be an http or https URL."), field="endpoint")
    own_id = target.id if target else -1
    for column, value, message, name in (
        (ForwardTarget.department_id, department_id, _("That department already has a CRM."),
         "department_id"),
        (ForwardTarget.service_id, service_id, _("That service already has a CRM."), "service_id"),
    ):
        if value is not None and db.session.scalar(
            select(ForwardTarget.id).where(column == value, ForwardTarget.id != own_id)
        ):
            raise DomainError(message, field=name)
    target = target or ForwardTarget()
    target.name = values["name"].strip()
    target.department_id = department_id
    target.service_id = service_id
    target.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    target.jurisdiction_id = (values.get("jurisdiction_id") or "").strip() or None
    if values.get("api_key"):
        target.api_key = values["api_key"].strip()
    target.active = bool(values.get("active"))
    db.session.add(target)
    db.session.flush()
    return target
