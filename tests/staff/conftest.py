"""Fixtures for the staff, liaison and admin area: a small world with one person per
role, a closed request carrying contact details and a private note, and clients
signed in as each persona."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from PIL import Image

from tests import factories
from webapp.domain.intake import answers, routing
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.people import api_keys
from webapp.models import ResponseTemplate
from webapp.plumbing.extensions import db

CONTACT = {
    "contact_name": "Zelda Quuxington",
    "contact_email": "zelda.private@example.org",
    "contact_phone": "+1 423 555 0199",
}
PRIVATE_NOTE = "PRIVATE-NOTE crew saw a needle bin behind the fence"
PERSONAS = ("anonymous", "resident", "other_resident", "liaison_here", "liaison_elsewhere",
            "staff", "admin")


def jpeg_bytes(color=(200, 30, 30), size=(64, 48)) -> bytes:
    """A small real JPEG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    """Everything the area tests need, by name."""

    city: dict
    users: dict = field(default_factory=dict)
    closed: object = None
    open: object = None
    other: object = None
    ids: dict = field(default_factory=dict)


def build_world() -> World:
    """Seed a city, one account per persona, requests, and one of everything an admin edits."""
    city = factories.gen_city()
    world = World(city=city)
    world.users = {
        "resident": factories.gen_user("resident"),
        "other_resident": factories.gen_user("resident"),
        "liaison_here": factories.gen_user("liaison", neighborhood=city["west"]),
        "liaison_elsewhere": factories.gen_user("liaison", neighborhood=city["east"]),
        "staff": factories.gen_user("staff"),
        "admin": factories.gen_user("admin"),
        "target": factories.gen_user("resident"),
    }
    db.session.commit()
    staff = world.users["staff"]
    world.closed = factories.gen_request(
        "pothole", requester=world.users["resident"], description="Deep hole by the school",
        **CONTACT,
    )
    requests_domain.add_note(world.closed, staff, PRIVATE_NOTE, public=False)
    requests_domain.transition(world.closed, "closed", staff, note="Patched the hole today.",
                               resolution="fixed")
    world.open = factories.gen_request("graffiti", requester=world.users["resident"], **CONTACT)
    requests_domain.add_note(world.open, staff, PRIVATE_NOTE, public=False)
    world.other = factories.gen_request("graffiti", description="Tag on the bridge")
    key, record = api_keys.issue("Test CRM")
    answer = answers.save(title="Bulky item pickup", body="Call 311 to book a pickup.",
                          service_ids=[city["graffiti"].id])
    rule = routing.save_rule(department_id=city["department"].id, service_id=city["pothole"].id)
    template = ResponseTemplate(title="Patched", body="We patched it.", status="closed")
    db.session.add(template)
    db.session.flush()
    world.ids = {
        "public_id": world.closed.public_id,
        "service_id": city["pothole"].id,
        "attribute_id": city["pothole"].attributes[0].id,
        "department_id": city["department"].id,
        "neighborhood_id": city["west"].id,
        "user_id": world.users["target"].id,
        "key_id": record.id,
        "template_id": template.id,
        "answer_id": answer.id,
        "rule_id": rule.id,
    }
    db.session.commit()
    return world



@pytest.fixture
def world(app) -> World:
    """The seeded world inside the test's app."""
    return build_world()


def sign_in(client, user) -> None:
    """Sign ``user`` in on ``client`` through the real form."""
    response = client.post(
        "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def persona_client(app, world):
    """``persona_client("staff")``: a fresh test client signed in as that persona."""

    def make(name: str):
        client = app.test_client()
        if name != "anonymous":
            sign_in(client, world.users[name])
        return client

    return make
