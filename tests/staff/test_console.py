"""The staff console, resident after-closure forms, liaison dashboard, admin pages,
open data and the staff JSON API, through the test client."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from tests.staff.conftest import CONTACT, jpeg_bytes
from webapp.domain.people import api_keys
from webapp.models import ApiKey, EventKind, Neighborhood, PhotoKind, ServiceRequest, User
from webapp.plumbing.extensions import db

API = {"X-Requested-With": "civic311"}


def test_queue_filters_sorts_and_flags(persona_client, world):
    client = persona_client("staff")
    world.open.expected_at = world.open.received_at - timedelta(days=1)
    world.other.reopened = True
    db.session.commit()
    page = client.get("/staff/").get_data(as_text=True)
    assert world.open.public_id in page and world.other.public_id in page
    assert world.closed.public_id not in page
    overdue = client.get("/staff/?overdue=1").get_data(as_text=True)
    assert world.open.public_id in overdue and world.other.public_id not in overdue
    reopened = client.get("/staff/?reopened=1").get_data(as_text=True)
    assert world.other.public_id in reopened and world.open.public_id not in reopened
    closed = client.get("/staff/?status=closed").get_data(as_text=True)
    assert world.closed.public_id in closed
    by_service = client.get(f"/staff/?status=all&service={world.city['pothole'].id}")
    assert world.closed.public_id in by_service.get_data(as_text=True)
    assert client.get("/staff/?sort=bogus&status=zzz").status_code == 200
    assert client.get("/staff/?page=abc&age=x").status_code == 400


def test_queue_opens_by_due_time_with_newest_first_one_choice_away(persona_client, world):
    old = factories.gen_request("graffiti", age_days=30)
    for _ in range(51):
        factories.gen_request("graffiti", age_days=5)
    new = factories.gen_request("pothole")
    db.session.commit()
    client = persona_client("staff")
    first = client.get("/staff/?service=").get_data(as_text=True)
    assert old.public_id in first  # the most overdue request leads
    order = first[first.index('class="queue-order"'):first.index('class="queue-summary"')]
    assert 'aria-current="true">Due soonest</a>' in order
    assert "sort=oldest" in order and "sort=newest" in order
    newest = client.get("/staff/?sort=newest").get_data(as_text=True)
    assert new.public_id in newest and old.public_id not in newest  # the new report on page 1
    assert 'aria-current="true">Newest first</a>' in newest
    oldest = client.get("/staff/?sort=oldest").get_data(as_text=True)
    assert old.public_id in oldest and new.public_id not in oldest
    assert 'aria-current="true">Oldest first</a>' in oldest


def test_queue_paginates(persona_client, world):
    for _ in range(51):
        factories.gen_request("graffiti")
    client = persona_client("staff")
    first = client.get("/staff/").get_data(as_text=True)
    assert "page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/staff/?page=2").get_data(as_text=True)
    assert 'rel="prev"' in second


def test_workbench_actions_write_events_and_flash(persona_client, world):
    client = persona_client("staff")
    url = f"/staff/requests/{world.open.public_id}"
    page = client.get(url).get_data(as_text=True)
    assert CONTACT["contact_phone"] in page and world.other.public_id in page  # nearby
    response = client.post(url + "/status", data={"status": "acknowledged"}, follow_redirects=True)
    assert "acknowledged" in response.get_data(as_text=True)
    client.post(url + "/assign", data={"assignee": str(world.users["staff"].id)})
    client.post(url + "/note", data={"note": "Call back Tuesday", "visibility": "private"})
    db.session.expire_all()
    req = db.session.get(ServiceRequest, world.open.id)
    kinds = [e.kind for e in req.events]
    assert kinds[-3:] == [EventKind.ACKNOWLEDGED, EventKind.ASSIGNED, EventKind.PRIVATE_NOTE]
    assert req.assignee_id == world.users["staff"].id


def test_refused_actions_are_explained_not_500(persona_client, world):
    client = persona_client("staff")
    url = f"/staff/requests/{world.open.public_id}"
    response = client.post(url + "/close", data={"resolution": "fixed", "note": ""},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "public note" in response.get_data(as_text=True)
    response = client.post(url + "/merge", data={"survivor": "311-999999"},
                           follow_redirects=True)
    assert response.status_code == 200 and "could not find" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(ServiceRequest, world.open.id).is_closed


def test_close_with_after_photo_and_template(persona_client, world):
    client = persona_client("staff")
    url = f"/staff/requests/{world.open.public_id}"
    page = client.get(url + f"?template={world.ids['template_id']}").get_data(as_text=True)
    assert "We patched it." in page
    response = client.post(
        url + "/close",
        data={"resolution": "fixed", "note": "Painted over",
              "photo": (io.BytesIO(jpeg_bytes()), "after.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    req = db.session.get(ServiceRequest, world.open.id)
    assert req.is_closed and [p.kind for p in req.photos] == [PhotoKind.CLOSURE]
    assert req.photos[0].event_id == req.events[-1].id


def test_close_with_a_bad_photo_is_refused_and_leaves_it_open(persona_client, world):
    client = persona_client("staff")
    url = f"/staff/requests/{world.open.public_id}"
    response = client.post(
        url + "/close",
        data={"resolution": "fixed", "note": "Done", "photo": (io.BytesIO(b"nope"), "x.jpg")},
        content_type="multipart/form-data", follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert not db.session.get(ServiceRequest, world.open.id).is_closed


def test_merge_through_the_console(persona_client, world):
    client = persona_client("staff")
    client.post(f"/staff/requests/{world.open.public_id}/merge",
                data={"survivor": world.other.public_id})
    db.session.expire_all()
    merged = db.session.get(ServiceRequest, world.open.id)
    assert merged.duplicate_of_id == world.other.id and merged.resolution == "duplicate"


def test_requester_sees_after_closure_box_and_others_do_not(persona_client, world):
    url = f"/requests/{world.closed.public_id}"
    assert "Is it fixed?" in persona_client("resident").get(url).get_data(as_text=True)
    for persona in ("anonymous", "other_resident", "staff"):
        assert "Is it fixed?" not in persona_client(persona).get(url).get_data(as_text=True)


def test_requester_confirms_rates_and_reopens_through_forms(persona_client, world):
    client = persona_client("resident")
    base = f"/requests/{world.closed.public_id}"
    client.post(base + "/rating", data={"rating": "5", "comment": "Great"})
    response = client.post(base + "/reopen", data={"comment": ""}, follow_redirects=True)
    assert "still wrong" in response.get_data(as_text=True)
    client.post(base + "/reopen", data={"comment": "It cracked again"})
    db.session.expire_all()
    req = db.session.get(ServiceRequest, world.closed.id)
    assert req.reopened and not req.is_closed
    assert EventKind.SURVEY_ANSWERED in [e.kind for e in req.events]
    queue = persona_client("staff").get("/staff/?reopened=1").get_data(as_text=True)
    assert req.public_id in queue


def test_anonymous_device_requester_can_reopen_by_cookie(app, world):
    client = app.test_client()
    created = client.post(
        "/api/v1/requests",
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31"},
        headers={**API, "Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"},
    )
    assert created.status_code == 201
    public_id = created.get_json()["data"]["id"]
    staff_client = app.test_client()
    from tests.staff.conftest import sign_in

    sign_in(staff_client, world.users["staff"])
    staff_client.post(f"/staff/requests/{public_id}/close",
                      data={"resolution": "fixed", "note": "Cleaned"})
    assert "Is it fixed?" in client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert client.post(f"/requests/{public_id}/confirm-fixed").status_code == 302
    other = app.test_client()
    assert other.post(f"/requests/{public_id}/reopen", data={"comment": "x"}).status_code == 403


def test_reopen_window_comes_from_config(persona_client, world):
    world.closed.closed_at = world.closed.closed_at - timedelta(days=31)
    db.session.commit()
    client = persona_client("resident")
    page = client.get(f"/requests/{world.closed.public_id}").get_data(as_text=True)
    assert "cannot be reopened" in page
    client.post(f"/requests/{world.closed.public_id}/reopen", data={"comment": "again"})
    db.session.expire_all()
    assert db.session.get(ServiceRequest, world.closed.id).is_closed


def test_liaison_dashboard_counts_and_follow(persona_client, world):
    client = persona_client("liaison_here")
    page = client.get("/liaison/").get_data(as_text=True)
    assert "West Side" in page and world.open.public_id in page
    assert "Log an issue for a neighbor" in page
    client.post(f"/liaison/requests/{world.open.public_id}/follow")
    page = client.get("/liaison/").get_data(as_text=True)
    assert "Stop following" in page
    elsewhere = persona_client("liaison_elsewhere")
    assert elsewhere.post(f"/liaison/requests/{world.open.public_id}/follow").status_code == 403
    assert world.open.public_id not in elsewhere.get("/liaison/").get_data(as_text=True)


def test_admin_creates_department_service_attribute_and_accounts(persona_client, world):
    client = persona_client("admin")
    client.post("/admin/departments", data={"name": "Parks"})
    client.post("/admin/services", data={"service_code": "tree_down", "name": "Tree down",
                                         "sla_days": "3", "active": "y", "public": "y",
                                         "department_id": ""})
    from webapp.models import Department, Service

    service = db.session.scalars(select(Service).where(Service.service_code == "tree_down")).one()
    assert service.sla_days == 3 and service.public
    client.post(f"/admin/services/{service.id}/attributes",
                data={"code": "size", "description": "How big?", "datatype": "singlevaluelist",
                      "values": "small=Small\nbig=Big"})
    db.session.expire_all()
    assert [a.values for a in service.attributes] == [
        [{"key": "small", "name": "Small"}, {"key": "big", "name": "Big"}]]
    assert db.session.scalars(select(Department).where(Department.name == "Parks")).one()
    dup = client.post("/admin/departments", data={"name": "parks"}).get_data(as_text=True)
    assert "already exists" in dup
    client.post("/admin/users", data={"display_name": "Lee", "email": "lee@city.gov",
                                      "password": "long enough pw", "role": "liaison",
                                      "neighborhood_id": str(world.city["west"].id),
                                      "department_id": ""})
    lee = db.session.scalars(select(User).where(User.email == "lee@city.gov")).one()
    assert lee.role == "liaison" and lee.neighborhood_id == world.city["west"].id
    client.post(f"/admin/users/{lee.id}", data={"role": "staff", "neighborhood_id": "",
                                                "department_id": ""})
    db.session.expire_all()
    lee = db.session.get(User, lee.id)
    assert lee.role == "staff" and lee.active is False


def test_admin_cannot_demote_themselves(persona_client, world):
    admin = world.users["admin"]
    page = persona_client("admin").post(
        f"/admin/users/{admin.id}", data={"role": "staff", "active": "y",
                                          "neighborhood_id": "", "department_id": ""}
    ).get_data(as_text=True)
    assert "own admin access" in page
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def _upload(client, name, payload, url="/admin/neighborhoods"):
    return client.post(url, data={"name": name, "geojson": (io.BytesIO(payload), "n.geojson")},
                       content_type="multipart/form-data")


def test_neighborhood_upload_validates_the_polygon_and_computes_the_bbox(persona_client, world):
    client = persona_client("admin")
    square = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[-85.30, 35.10], [-85.28, 35.10], [-85.28, 35.12], [-85.30, 35.12], [-85.30, 35.10]]]}}
    _upload(client, "North Shore", json.dumps(square).encode())
    hood = db.session.scalars(select(Neighborhood).where(Neighborhood.name == "North Shore")).one()
    assert (hood.min_lat, hood.min_long, hood.max_lat, hood.max_long) == (35.10, -85.30, 35.12,
                                                                          -85.28)
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    for bad in (b"not json", json.dumps({"type": "Point", "coordinates": [0, 0]}).encode(),
                json.dumps(bowtie).encode()):
        response = _upload(client, "Bad", bad)
        assert response.status_code == 200
        assert db.session.scalars(select(Neighborhood).where(Neighborhood.name == "Bad")).first() \
            is None


def test_api_key_is_shown_once_and_can_be_revoked(persona_client, world):
    client = persona_client("admin")
    page = client.post("/admin/api-keys", data={"name": "City CRM"})
    body = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    key = body.split('id="new-key">')[1].split("<")[0]
    assert api_keys.verify(key) is not None
    assert key not in client.get("/admin/api-keys").get_data(as_text=True)
    record = db.session.scalars(select(ApiKey).where(ApiKey.name == "City CRM")).one()
    client.post(f"/admin/api-keys/{record.id}/revoke")
    db.session.expire_all()
    assert api_keys.verify(key) is None


def test_stats_page_figures(app, persona_client, world):
    from webapp.domain.figures import stats
    from webapp.opendata.views import month_start

    world.closed.closed_at = world.closed.received_at + timedelta(days=2)
    db.session.commit()
    with app.test_request_context():
        rows = {r.service_code: r for r in stats.per_service(month_start())}
    assert rows["pothole"].this_month == 1 and rows["pothole"].median_days_to_close == 2.0
    assert rows["pothole"].within_sla_share == 1.0 and rows["pothole"].reopened_share == 0.0
    assert rows["graffiti"].this_month == 2 and rows["graffiti"].median_days_to_close is None
    page = persona_client("anonymous").get("/stats").get_data(as_text=True)
    assert "Pothole" in page and "100%" in page


def test_public_export_has_no_private_fields_and_staff_export_does(persona_client, world):
    public_csv = persona_client("anonymous").get("/export/requests.csv").get_data(as_text=True)
    assert world.closed.public_id in public_csv and "contact_email" not in public_csv
    geo = json.loads(persona_client("anonymous").get("/export/requests.geojson").get_data())
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 3
    assert geo["features"][0]["geometry"]["type"] == "Point"
    staff_csv = persona_client("staff").get("/staff/export/requests.csv").get_data(as_text=True)
    assert CONTACT["contact_email"] in staff_csv


def test_staff_api_actions(persona_client, world):
    client = persona_client("staff")
    base = f"/api/v1/staff/requests/{world.open.public_id}"
    ok = client.post(base + "/transition", json={"status": "in_progress"}, headers=API)
    assert ok.status_code == 200 and ok.get_json()["data"]["detailed_status"] == "in_progress"
    refused = client.post(base + "/transition", json={"status": "closed", "resolution": "fixed"},
                          headers=API)
    assert refused.status_code == 422 and refused.get_json()["error"]["details"]["field"] == "note"
    note = client.post(base + "/notes", json={"note": "hello", "public": True}, headers=API)
    assert note.get_json()["data"]["timeline"][-1]["kind"] == "public_note"
    assign = client.post(base + "/assign", json={"assignee_id": world.users["staff"].id},
                         headers=API)
    assert assign.get_json()["data"]["assignee"] == world.users["staff"].display_name
    merge = client.post(base + "/merge", json={"survivor": world.other.public_id}, headers=API)
    assert merge.get_json()["data"]["duplicate_of"] == world.other.public_id
    again = client.post(base + "/merge", json={"survivor": world.other.public_id}, headers=API)
    assert again.status_code == 409
    resident = persona_client("resident")
    assert resident.post(base + "/notes", json={"note": "x"}, headers=API).status_code == 403
    assert persona_client("anonymous").post(base + "/notes", json={"note": "x"},
                                            headers=API).status_code == 401


def test_not_fixed_opens_the_reopen_form_without_javascript(persona_client, world):
    client = persona_client("resident")
    page = client.get(f"/requests/{world.closed.public_id}").get_data(as_text=True)
    assert "hidden" in page.split('id="reopen-form"')[1].split(">")[0]
    opened = client.get(f"/requests/{world.closed.public_id}?not-fixed=1").get_data(as_text=True)
    assert "hidden" not in opened.split('id="reopen-form"')[1].split(">")[0]
    assert 'aria-expanded="true"' in opened


def test_queue_count_stops_at_its_cap_and_says_so(app, persona_client, world, monkeypatch):
    from webapp.domain.lifecycle import queue

    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    found = queue.search(queue.QueueFilters(status="all"))
    assert found.total == 2 and found.total_is_exact is False
    page = persona_client("staff").get("/staff/?status=all").get_data(as_text=True)
    assert "More than 2 requests match" in page
    monkeypatch.setattr(queue, "COUNT_CAP", 100)
    exact = queue.search(queue.QueueFilters(status="all"))
    assert exact.total_is_exact is True and exact.total == 3
