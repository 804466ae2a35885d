"""Routing rules as a table: every channel's door routes by the same ordered rules, and
moving a request to another service routes it again."""

import uuid

import pytest

from tests import factories
from tests.staff.conftest import sign_in
from webapp.domain.intake import routing
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.people import api_keys
from webapp.models import ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
WEST_OUTSIDE_AREA = (35.08, -85.33)
# A drawn area around the downtown point (factories.INSIDE).
DOWNTOWN = {
    "type": "Polygon",
    "coordinates": [
        [[-85.32, 35.04], [-85.30, 35.04], [-85.30, 35.05], [-85.32, 35.05], [-85.32, 35.04]]
    ],
}

# (service, point) → (department, assignee?)
TABLE = [
    ("pothole", factories.INSIDE_EAST, "East Roads", True),  # service + neighborhood
    ("pothole", factories.INSIDE, "Downtown Crew", False),  # service + drawn area
    ("pothole", WEST_OUTSIDE_AREA, "West Ops", False),  # any service + neighborhood
    ("graffiti", factories.INSIDE, "West Ops", False),  # the inactive rule is skipped
    ("graffiti", factories.INSIDE_EAST, "Public Works", False),  # no rule: service default
]
CHANNELS = ["pwa", "liaison", "open311", "phone", "walk_in", "email", "web"]


@pytest.fixture
def rules(city):
    """Four rules in order (one inactive), three departments and a crew lead."""
    east = factories.gen_department("East Roads")
    downtown = factories.gen_department("Downtown Crew")
    west = factories.gen_department("West Ops")
    never = factories.gen_department("Never")
    lead = factories.gen_user("staff", name="Crew Lead")
    routing.save_rule(department_id=never.id, service_id=city["graffiti"].id, active=False)
    routing.save_rule(
        department_id=east.id,
        service_id=city["pothole"].id,
        neighborhood_id=city["east"].id,
        assignee_id=lead.id,
    )
    routing.save_rule(
        department_id=downtown.id, service_id=city["pothole"].id, area_geojson=DOWNTOWN
    )
    routing.save_rule(department_id=west.id, neighborhood_id=city["west"].id)
    db.session.commit()
    return {"lead": lead}


def _create(app, channel, service, point) -> ServiceRequest:
    """Create a request through the channel's own door."""
    client = app.test_client()
    fields = {
        "service_code": service,
        "lat": str(point[0]),
        "long": str(point[1]),
        "description": "Routed by the table",
    }
    if service == "pothole":
        fields["attribute[size]"] = "small"
    if channel in ("pwa", "liaison"):
        if channel == "liaison":
            hood = db.session.scalars(db.select(factories.Neighborhood)).first()
            sign_in(client, factories.gen_user("liaison", neighborhood=hood))
        response = client.post(
            "/api/v1/requests", data=fields, headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())}
        )
        public_id = response.get_json()["data"]["id"]
    elif channel == "open311":
        key, _record = api_keys.issue("CRM")
        db.session.commit()
        response = client.post("/open311/v2/requests.json", data={**fields, "api_key": key})
        public_id = response.get_json()[0]["service_request_id"]
    elif channel in ("phone", "walk_in", "email"):
        sign_in(client, factories.gen_user("staff"))
        response = client.post(
            "/api/v1/staff/requests",
            data={**fields, "channel": channel, "caller_phone": "4235550100"},
            headers=WRITE,
        )
        public_id = response.get_json()["data"]["id"]
    else:
        return factories.gen_request(service, lat=point[0], long=point[1], channel=channel)
    assert response.status_code == 201, response.get_data(as_text=True)
    db.session.expire_all()
    return requests_domain.get_by_public_id(public_id)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("service", "point", "department", "assigned"), TABLE)
def test_every_channel_routes_by_the_same_rules(
    app, rules, channel, service, point, department, assigned
):
    req = _create(app, channel, service, point)
    assert req.channel == channel
    assert req.department.name == department
    assert (req.assignee == rules["lead"]) is assigned


def test_moving_a_request_to_another_service_routes_it_again(app, city, rules):
    req = factories.gen_request(
        "graffiti", lat=factories.INSIDE_EAST[0], long=factories.INSIDE_EAST[1]
    )
    assert req.department.name == "Public Works"
    staff = factories.gen_user("staff")
    routing.recategorise(req, city["pothole"], staff)
    db.session.commit()
    assert (req.service.service_code, req.department.name, req.assignee) == (
        "pothole",
        "East Roads",
        rules["lead"],
    )
    assert req.events[-1].data["recategorised_from"] == "graffiti"
    assert req.events[-1].public is False


def test_reordering_changes_which_rule_wins(app, city, rules):
    ordered = routing.ordered_rules()
    last = ordered[-1]  # "any service in the West" → West Ops
    routing.move(last.id, -1)
    routing.move(last.id, -1)
    db.session.commit()
    assert [r.position for r in routing.ordered_rules()] == [1, 2, 3, 4]
    req = factories.gen_request("pothole", lat=factories.INSIDE[0], long=factories.INSIDE[1])
    assert req.department.name == "West Ops"
