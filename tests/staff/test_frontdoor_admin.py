"""Admins write answers (preview first) and keep the routing rules in order."""

from sqlalchemy import select

from tests import factories
from webapp.domain.intake import routing
from webapp.models import Answer
from webapp.plumbing.extensions import db


def test_preview_renders_without_saving_then_save_stores(client, auth, city):
    auth.login("admin")
    form = {
        "title": "Bulky item pickup",
        "body": "Book a **free** pickup.\n\n<script>x</script>",
        "summary": "",
        "keywords": "sofa",
        "topics": "bulky pickup, trash days",
        "service_ids": [str(city["graffiti"].id)],
        "published": "y",
    }
    preview = client.post("/admin/answers", data={**form, "preview": "Preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>free</strong>" in page
    assert "<script>x" not in page
    assert db.session.scalars(select(Answer)).first() is None
    saved = client.post("/admin/answers", data={**form, "submit": "Save answer"})
    assert saved.status_code == 302
    answer = db.session.scalars(select(Answer)).one()
    assert (answer.slug, answer.topics, [s.service_code for s in answer.services]) == (
        "bulky-item-pickup",
        ["bulky pickup", "trash days"],
        ["graffiti"],
    )
    edit = client.get(f"/admin/answers/{answer.id}").get_data(as_text=True)
    assert "bulky pickup, trash days" in edit


def test_admin_adds_and_reorders_routing_rules(client, auth, city):
    auth.login("admin")
    other = factories.gen_department("Parks")
    db.session.commit()
    for department in (city["department"], other):
        response = client.post(
            "/admin/routing",
            data={
                "department_id": str(department.id),
                "service_id": "",
                "neighborhood_id": "",
                "assignee_id": "",
                "area_geojson": "",
                "active": "y",
                "name": department.name,
            },
        )
        assert response.status_code == 302
    bad = client.post(
        "/admin/routing", data={"department_id": str(other.id), "area_geojson": '{"type": "Point"}'}
    )
    assert "GeoJSON polygon" in bad.get_data(as_text=True)
    second = routing.ordered_rules()[1]
    client.post(f"/admin/routing/{second.id}/up")
    db.session.expire_all()
    assert [r.name for r in routing.ordered_rules()] == ["Parks", "Public Works"]
    page = client.get("/admin/routing").get_data(as_text=True)
    assert page.index("Parks") < page.index("Public Works</td>")
