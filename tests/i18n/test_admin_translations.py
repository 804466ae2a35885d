"""Admins translate the city's texts side by side with the English."""

from __future__ import annotations

from webapp.models import Service
from webapp.plumbing.extensions import db


def test_admin_edits_spanish_beside_english(client, auth, city):
    auth.login("admin")
    pothole = city["pothole"]
    size = pothole.attributes[0]
    page = client.get("/admin/translations?locale=es").get_data(as_text=True)
    assert "Translations: Español" in page
    assert '<td lang="en">Pothole</td>' in page
    assert f'name="t-service-{pothole.id}-name"' in page
    assert f'name="t-attribute-{size.id}-values.small"' in page

    response = client.post(
        "/admin/translations?locale=es",
        data={
            f"t-service-{pothole.id}-name": "Bache",
            f"t-service-{pothole.id}-description": "  ",
            f"t-attribute-{size.id}-description": "¿Qué tan grande es?",
            f"t-attribute-{size.id}-values.small": "Pequeño",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    service = db.session.get(Service, pothole.id)
    assert service.translations == {"es": {"name": "Bache"}}
    assert service.attributes[0].translations == {
        "es": {"description": "¿Qué tan grande es?", "values": {"small": "Pequeño"}}
    }
    listed = client.get("/api/v1/services", headers={"Accept-Language": "es"}).get_json()
    assert "Bache" in {s["name"] for s in listed["data"]}


def test_unknown_language_is_not_found_and_residents_are_refused(client, auth, city):
    auth.login("admin")
    assert client.get("/admin/translations?locale=en").status_code == 404
    assert client.get("/admin/translations?locale=xx").status_code == 404
    auth.logout()
    auth.login("resident")
    assert client.get("/admin/translations?locale=es").status_code in (302, 403)
