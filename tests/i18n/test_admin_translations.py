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
    assert f'item=service-{pothole.id}' in page and f'item=attribute-{size.id}' in page
    item = client.get(f"/admin/translations?locale=es&item=service-{pothole.id}")
    item = item.get_data(as_text=True)
    assert f'name="t-service-{pothole.id}-name"' in item
    assert '<p lang="en" class="translation-source"' in item and ">Pothole</p>" in item
    question = client.get(f"/admin/translations?locale=es&item=attribute-{size.id}")
    question = question.get_data(as_text=True)
    assert f'name="t-attribute-{size.id}-values.small"' in question
    assert "Choice: Small" in question and "Question <span" in question  # human labels

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


def test_one_item_at_a_time_with_a_missing_only_filter(client, auth, city):
    auth.login("admin")
    pothole = city["pothole"]
    size = pothole.attributes[0]
    everything = client.get("/admin/translations?locale=es").get_data(as_text=True)
    missing = client.get("/admin/translations?locale=es&missing=1").get_data(as_text=True)
    assert f"item=service-{pothole.id}" in missing
    # Saving one item touches that item only and, with "Save and next", opens the next.
    key = f"service-{pothole.id}"
    response = client.post(
        f"/admin/translations?locale=es&item={key}&missing=1",
        data={f"t-service-{pothole.id}-name": "Bache", "next": "1"},
    )
    assert response.status_code == 303
    assert "item=" in response.location and key not in response.location
    assert "missing=1" in response.location
    db.session.expire_all()
    assert db.session.get(Service, pothole.id).translations == {"es": {"name": "Bache"}}
    # A question's choices are kept when another of its fields is saved alone.
    client.post(
        f"/admin/translations?locale=es&item=attribute-{size.id}",
        data={f"t-attribute-{size.id}-values.small": "Pequeño"},
    )
    client.post(
        f"/admin/translations?locale=es&item=attribute-{size.id}",
        data={f"t-attribute-{size.id}-description": "¿Qué tan grande es?"},
    )
    db.session.expire_all()
    assert size.translations["es"]["values"] == {"small": "Pequeño"}
    assert everything.count("<li id=") >= missing.count("<li id=")
    assert client.get("/admin/translations?locale=es&item=service-999999").status_code == 404
