"""The demo city ships Spanish for every service, question, choice, template and answer."""

from __future__ import annotations

from sqlalchemy import select

from webapp.content_i18n import CONTENT_FIELDS, missing_fields
from webapp.models import Answer, ResponseTemplate, Service, ServiceAttribute
from webapp.plumbing.extensions import db
from webapp.seed.demo import seed_demo


def test_demo_content_is_complete_in_spanish(app):
    seed_demo(request_count=5)
    rows = [
        *db.session.scalars(select(Service)),
        *db.session.scalars(select(ServiceAttribute)),
        *db.session.scalars(select(ResponseTemplate)),
        *db.session.scalars(select(Answer)),
    ]
    assert {type(r) for r in rows} == set(CONTENT_FIELDS)
    gaps = {f"{type(r).__name__} {r.id}": missing_fields(r, "es") for r in rows}
    assert not {k: v for k, v in gaps.items() if v}
    answers = [r for r in rows if isinstance(r, Answer)]
    assert len(answers) > 20
    for answer in answers:  # every answer reads whole in Spanish, never a copy of the English
        spanish = answer.translations["es"]
        for field in ("title", "summary", "body"):
            assert spanish[field].strip() and spanish[field] != getattr(answer, field), (
                answer.slug,
                field,
            )


def test_demo_answers_are_found_and_read_in_spanish(client):
    seed_demo(request_count=5)
    found = client.get("/api/v1/answers?q=recolección contenedor", headers={"Accept-Language": "es"})
    titles = [a["title"] for a in found.get_json()["data"]]
    assert "¿Qué día recogen mi basura?" in titles


def test_demo_services_are_listed_in_spanish(client):
    seed_demo(request_count=5)
    body = client.get("/api/v1/services", headers={"Accept-Language": "es"}).get_json()
    names = {s["name"] for s in body["data"]}
    assert {"Bache", "Grafiti", "Luminaria apagada"} <= names
    groups = {s["group"] for s in body["data"]}
    assert groups == {"Calles", "Vecindario", "Basura y reciclaje", "Parques"}
