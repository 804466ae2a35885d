"""``gen_*`` factory functions: build test data through the real models and rules."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.people import accounts
from webapp.models import (
    CityBoundary,
    Department,
    Neighborhood,
    Service,
    ServiceAttribute,
    ServiceRequest,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

PASSWORD = "correct horse battery"
_counter = itertools.count(1)

# A square "city" around downtown Chattanooga, split into two neighborhoods.
CITY_BOX = (35.00, -85.35, 35.10, -85.25)
INSIDE = (35.045, -85.31)
INSIDE_EAST = (35.045, -85.27)
OUTSIDE = (36.16, -86.78)  # Nashville


def _box(min_lat, min_long, max_lat, max_long) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [min_long, min_lat],
                [max_long, min_lat],
                [max_long, max_lat],
                [min_long, max_lat],
                [min_long, min_lat],
            ]
        ],
    }


def gen_neighborhood(name: str, box: tuple[float, float, float, float]) -> Neighborhood:
    """A rectangular neighborhood."""
    min_lat, min_long, max_lat, max_long = box
    hood = Neighborhood(
        name=name,
        slug=name.lower().replace(" ", "-"),
        geojson=_box(*box),
        min_lat=min_lat,
        min_long=min_long,
        max_lat=max_lat,
        max_long=max_long,
    )
    db.session.add(hood)
    db.session.flush()
    return hood


def gen_department(name: str | None = None) -> Department:
    """A department."""
    department = Department(name=name or f"Department {next(_counter)}")
    db.session.add(department)
    db.session.flush()
    return department


def gen_service(
    code: str | None = None,
    *,
    name: str | None = None,
    sla_days: int = 5,
    department: Department | None = None,
    attributes: list[dict] | None = None,
    active: bool = True,
    public: bool = True,
) -> Service:
    """A service; ``attributes`` are dicts of ServiceAttribute fields."""
    code = code or f"service_{next(_counter)}"
    service = Service(
        service_code=code,
        name=name or code.replace("_", " ").title(),
        description=f"About {code}",
        group="Streets",
        sla_days=sla_days,
        department=department,
        active=active,
        public=public,
    )
    for order, spec in enumerate(attributes or [], 1):
        service.attributes.append(ServiceAttribute(order=order, **spec))
    db.session.add(service)
    db.session.flush()
    return service


def gen_city() -> dict:
    """Boundary, two neighborhoods (West, East), a department and three services."""
    db.session.add(CityBoundary(name="Testville", geojson=_box(*CITY_BOX)))
    west = gen_neighborhood("West Side", (35.00, -85.35, 35.10, -85.30))
    east = gen_neighborhood("East Side", (35.00, -85.30, 35.10, -85.25))
    works = gen_department("Public Works")
    pothole = gen_service(
        "pothole",
        name="Pothole",
        department=works,
        attributes=[
            {
                "code": "size",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "How big is it?",
                "values": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
            },
            {
                "code": "lane",
                "datatype": "string",
                "required": False,
                "description": "Which lane?",
                "values": [],
            },
        ],
    )
    graffiti = gen_service("graffiti", name="Graffiti", department=works, sla_days=10)
    streetlight = gen_service("streetlight", name="Streetlight out", department=works, sla_days=7)
    db.session.commit()
    return {
        "west": west,
        "east": east,
        "department": works,
        "pothole": pothole,
        "graffiti": graffiti,
        "streetlight": streetlight,
    }


def gen_user(
    role: str = "resident",
    *,
    email: str | None = None,
    name: str | None = None,
    neighborhood: Neighborhood | None = None,
) -> User:
    """An account with a known password (``PASSWORD``)."""
    number = next(_counter)
    return accounts.create_user(
        email or f"{role}{number}@example.com",
        PASSWORD,
        name or f"{role.title()} {number}",
        role,
        neighborhood_id=neighborhood.id if neighborhood else None,
    )


def gen_request(
    service: Service | str = "graffiti",
    *,
    lat: float = INSIDE[0],
    long: float = INSIDE[1],
    description: str = "Something needs fixing",
    attributes: dict | None = None,
    requester: User | None = None,
    device=None,
    photos: list[bytes] | None = None,
    client_uuid: str | None = None,
    contact_email: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    channel: str = "pwa",
    age_days: float = 0,
    api_key=None,
) -> ServiceRequest:
    """A submitted request through the real ``submit`` rule (committed)."""
    code = service if isinstance(service, str) else service.service_code
    result = requests_domain.submit(
        requests_domain.Submission(
            service_code=code,
            lat=lat,
            long=long,
            description=description,
            attributes=attributes or ({"size": "small"} if code == "pothole" else {}),
            requester=requester,
            device=device,
            photos=photos or [],
            client_uuid=client_uuid or str(uuid.uuid4()),
            contact_email=contact_email,
            contact_name=contact_name,
            contact_phone=contact_phone,
            channel=channel,
            api_key=api_key,
        )
    )
    request = result.request
    if age_days:
        when = utcnow() - timedelta(days=age_days)
        request.received_at = when
        request.updated_at = when
        for event in request.events:
            event.created_at = when
        db.session.commit()
    return request
