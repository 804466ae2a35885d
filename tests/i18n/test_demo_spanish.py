"""The demo city ships Spanish for every service, question, choice and template."""

from __future__ import annotations

from sqlalchemy import select

from webapp.content_i18n import CONTENT_FIELDS, missing_fields
from webapp.extensions import db
from webapp.models import ResponseTemplate, Service, ServiceAttribute
from webapp.seed.demo import seed_demo


def test_demo_content_is_complete_in_spanish(app):
    seed_demo(request_count=5)
    rows = [
        *db.session.scalars(select(Service)),
        *db.session.scalars(select(ServiceAttribute)),
        *db.session.scalars(select(ResponseTemplate)),
    ]
    assert {type(r) for r in rows} == set(CONTENT_FIELDS)
    gaps = {f"{type(r).__name__} {r.id}": missing_fields(r, "es") for r in rows}
    assert not {k: v for k, v in gaps.items() if v}


def test_demo_services_are_listed_in_spanish(client):
    seed_demo(request_count=5)
    body = client.get("/api/v1/services", headers={"Accept-Language": "es"}).get_json()
    names = {s["name"] for s in body["data"]}
    assert {"Bache", "Grafiti", "Luminaria apagada"} <= names
    groups = {s["group"] for s in body["data"]}
    assert groups == {"Calles", "Vecindario", "Basura y reciclaje", "Parques"}
