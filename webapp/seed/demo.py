"""Seed the Chattanooga demo city: deterministic (fixed random seed) and idempotent.

Reference data (boundary, neighborhoods, departments, services, users) is upserted by
its natural key; the ~300 demo requests are created only when none exist yet. Their
timelines are back-dated from the day of seeding so the demo always looks current.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from webapp.domain.geo import places
from webapp.domain.people import accounts
from webapp.models import (
    Channel,
    CityBoundary,
    Department,
    EventKind,
    Follow,
    GeocodeState,
    Neighborhood,
    RequestEvent,
    Resolution,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db
from webapp.seed import chattanooga as city
from webapp.seed import chattanooga_es

SEED = 311
SEED_NAMESPACE = uuid.UUID("6f0f1d2e-3311-4c11-9b11-c101c0000311")
DEFAULT_REQUEST_COUNT = 300


def _box_polygon(min_lat, min_long, max_lat, max_long) -> dict:
    ring = [
        [min_long, min_lat],
        [max_long, min_lat],
        [max_long, max_lat],
        [min_long, max_lat],
        [min_long, min_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def seed_geography() -> None:
    """City boundary and the six neighborhoods."""
    boundary = db.session.scalars(select(CityBoundary)).first()
    polygon = {"type": "Polygon", "coordinates": [[list(p) for p in city.CITY_BOUNDARY]]}
    if boundary is None:
        db.session.add(CityBoundary(name=city.CITY_NAME, geojson=polygon))
    for name, box in city.NEIGHBORHOODS.items():
        slug = name.lower().replace(". ", "-").replace(" ", "-").replace(".", "")
        found = db.session.scalars(select(Neighborhood).where(Neighborhood.name == name)).first()
        if found is None:
            min_lat, min_long, max_lat, max_long = box
            db.session.add(
                Neighborhood(
                    name=name,
                    slug=slug,
                    geojson=_box_polygon(*box),
                    min_lat=min_lat,
                    min_long=min_long,
                    max_lat=max_lat,
                    max_long=max_long,
                )
            )
    db.session.flush()


def seed_services() -> None:
    """Departments and services with their Open311 attributes."""
    departments = {}
    for name, email, phone in city.DEPARTMENTS:
        department = db.session.scalars(select(Department).where(Department.name == name)).first()
        if department is None:
            department = Department(name=name, email=email, phone=phone)
            db.session.add(department)
        departments[name] = department
    db.session.flush()
    for code, name, group, dept, sla, keywords, description, attributes in city.SERVICES:
        service = db.session.scalars(select(Service).where(Service.service_code == code)).first()
        if service is not None:
            continue
        service = Service(
            service_code=code,
            name=name,
            group=group,
            sla_days=sla,
            keywords=keywords,
            description=description,
            department=departments[dept],
            active=True,
            public=True,
        )
        for order, (attr_code, datatype, required, question, values) in enumerate(attributes, 1):
            service.attributes.append(
                ServiceAttribute(
                    code=attr_code,
                    datatype=datatype,
                    required=required,
                    order=order,
                    description=question,
                    values=values,
                    variable=True,
                )
            )
        db.session.add(service)
    db.session.flush()


def seed_users() -> list[tuple[str, str, str]]:
    """One account per role (two staff, two liaisons); returns (email, password, role)."""
    created = []
    for email, name, role, neighborhood, department in city.USERS:
        if accounts.find_by_email(email) is None:
            hood = db.session.scalars(
                select(Neighborhood).where(Neighborhood.name == neighborhood)
            ).first()
            dept = db.session.scalars(
                select(Department).where(Department.name == department)
            ).first()
            accounts.create_user(
                email,
                city.DEMO_PASSWORD,
                name,
                role,
                neighborhood_id=hood.id if hood else None,
                department_id=dept.id if dept else None,
                demo=True,
            )
        created.append((email, city.DEMO_PASSWORD, role))
    db.session.flush()
    return created


def _random_point(rng: random.Random) -> tuple[float, float]:
    """A point in a neighborhood (most of the time) or elsewhere inside the city."""
    if rng.random() < 0.85:
        min_lat, min_long, max_lat, max_long = rng.choice(list(city.NEIGHBORHOODS.values()))
    else:
        min_lat, min_long, max_lat, max_long = 34.99, -85.40, 35.15, -85.07
    boundary = {"type": "Polygon", "coordinates": [[list(p) for p in city.CITY_BOUNDARY]]}
    while True:
        lat = round(rng.uniform(min_lat, max_lat), 6)
        long = round(rng.uniform(min_long, max_long), 6)
        if places.contains(boundary, lat, long):
            return lat, long


def _pick_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.22:
        return Status.SUBMITTED
    if roll < 0.42:
        return Status.ACKNOWLEDGED
    if roll < 0.62:
        return Status.IN_PROGRESS
    return Status.CLOSED


def _pick_resolution(rng: random.Random) -> str:
    return rng.choices(list(city.CLOSING_NOTES), weights=[70, 10, 6, 7, 7])[0]


def _attribute_answers(rng: random.Random, service: Service) -> dict:
    answers = {}
    for attribute in service.attributes:
        if attribute.datatype == "singlevaluelist" and (attribute.required or rng.random() < 0.5):
            answers[attribute.code] = rng.choice(attribute.values)["key"]
        elif attribute.datatype == "string" and rng.random() < 0.4:
            answers[attribute.code] = f"{rng.randint(10000, 99999)}"
    return answers


def seed_requests(count: int = DEFAULT_REQUEST_COUNT) -> int:
    """About ``count`` requests with realistic timelines; none when requests exist."""
    if db.session.scalar(select(func.count(ServiceRequest.id))):
        return 0
    rng = random.Random(SEED)
    services = db.session.scalars(select(Service).order_by(Service.id)).all()
    staff = db.session.scalars(select(User).where(User.role == "staff").order_by(User.id)).all()
    resident = accounts.find_by_email("resident@civic311.example")
    liaisons = db.session.scalars(
        select(User).where(User.role == "liaison").order_by(User.id)
    ).all()
    now = utcnow()
    created: list[ServiceRequest] = []
    for index in range(count):
        service = rng.choice(services)
        lat, long = _random_point(rng)
        received = now - timedelta(days=rng.uniform(0.2, 120), minutes=rng.randint(0, 600))
        target = _pick_status(rng)
        channel = rng.choices(
            [Channel.PWA, Channel.WEB, Channel.LIAISON, Channel.OPEN311, Channel.PHONE],
            weights=[60, 10, 10, 10, 10],
        )[0]
        with_contact = rng.random() < 0.4
        logged_by = rng.choice(liaisons) if channel == Channel.LIAISON and liaisons else None
        request = ServiceRequest(
            service=service,
            description=rng.choice(city.DESCRIPTIONS[service.service_code]),
            lat=lat,
            long=long,
            address=f"{rng.randint(100, 4999)} {rng.choice(city.STREETS)}, Chattanooga, TN",
            geocode_state=GeocodeState.DONE,
            zipcode=rng.choice(["37402", "37403", "37404", "37405", "37407", "37411"]),
            status="open",
            detailed_status=Status.SUBMITTED,
            department_id=service.department_id,
            channel=channel,
            requester=resident if index % 10 == 0 else None,
            logged_by=logged_by,
            community_issue=bool(logged_by and rng.random() < 0.5),
            contact_name=f"Neighbor {index}" if with_contact else None,
            contact_email=f"neighbor{index}@example.net" if with_contact else None,
            contact_phone=f"423-555-{index:04d}" if with_contact else None,
            client_uuid=str(uuid.uuid5(SEED_NAMESPACE, f"demo-{index}")),
            attribute_values=_attribute_answers(rng, service),
            neighborhood=places.neighborhood_for(lat, long),
            received_at=received,
            updated_at=received,
            expected_at=received + timedelta(days=service.sla_days or 14),
        )
        db.session.add(request)
        db.session.flush()
        request.public_id = f"311-{request.id:06d}"
        _timeline(rng, request, target, staff, now)
        if request.requester is not None:
            db.session.add(Follow(request=request, user_id=request.requester.id))
        created.append(request)
    db.session.flush()
    return len(created)


def _event(
    request,
    kind,
    at,
    actor=None,
    from_status=None,
    to_status=None,
    note=None,
    public=True,
    data=None,
):
    db.session.add(
        RequestEvent(
            request=request,
            kind=kind,
            created_at=at,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public=public,
            data=data or {},
        )
    )
    request.updated_at = at


def _timeline(rng, request, target, staff, now) -> None:
    at = request.received_at
    _event(request, EventKind.CREATED, at, to_status=Status.SUBMITTED)
    if target == Status.SUBMITTED:
        return
    worker = rng.choice(staff) if staff else None

    def later(max_days: float):
        nonlocal at
        at = min(at + timedelta(hours=rng.uniform(2, max_days * 24)), now - timedelta(minutes=5))
        return at

    _event(request, EventKind.ACKNOWLEDGED, later(2), worker, Status.SUBMITTED, Status.ACKNOWLEDGED)
    request.detailed_status = Status.ACKNOWLEDGED
    if rng.random() < 0.4 and worker:
        request.assignee = worker
        _event(
            request,
            EventKind.ASSIGNED,
            later(1),
            worker,
            public=False,
            data={"assignee": worker.display_name},
        )
    if target == Status.ACKNOWLEDGED:
        return
    _event(
        request,
        EventKind.STATUS_CHANGED,
        later(5),
        worker,
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        note=rng.choice([None, "A crew is scheduled this week."]),
    )
    request.detailed_status = Status.IN_PROGRESS
    if rng.random() < 0.3:
        _event(
            request,
            EventKind.PRIVATE_NOTE,
            later(1),
            worker,
            public=False,
            note="Needs the large patch truck; call the requester before starting.",
        )
    if target == Status.IN_PROGRESS:
        return
    resolution = _pick_resolution(rng)
    note = rng.choice(city.CLOSING_NOTES[resolution])
    closed_at = later(10)
    data = {"resolution": resolution}
    if resolution == Resolution.REFERRED:
        request.referred_to = "Tennessee Department of Transportation"
        data["referred_to"] = request.referred_to
    _event(
        request,
        EventKind.STATUS_CHANGED,
        closed_at,
        worker,
        Status.IN_PROGRESS,
        Status.CLOSED,
        note=note,
        data=data,
    )
    request.detailed_status = Status.CLOSED
    request.status = "closed"
    request.resolution = resolution
    request.resolution_note = note
    request.closed_at = closed_at
    if (
        resolution == Resolution.FIXED
        and rng.random() < 0.08
        and closed_at < now - timedelta(days=1)
    ):
        reopened_at = later(3)
        _event(
            request,
            EventKind.REOPENED,
            reopened_at,
            None,
            Status.CLOSED,
            Status.ACKNOWLEDGED,
            note="Still broken — the patch already crumbled.",
        )
        request.detailed_status = Status.ACKNOWLEDGED
        request.status = "open"
        request.resolution = None
        request.closed_at = None
        request.reopened = True
        request.reopen_count = 1


def seed_demo(request_count: int = DEFAULT_REQUEST_COUNT) -> dict:
    """Seed everything and commit; returns what was done (for the CLI to print)."""
    seed_geography()
    seed_services()
    from webapp.seed.answers import seed_answers

    seed_answers()
    chattanooga_es.seed_translations()
    chattanooga_es.seed_templates()
    users = seed_users()
    created = seed_requests(request_count)
    db.session.commit()
    return {"users": users, "requests_created": created}
