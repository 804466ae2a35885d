"""The JSON API core: services, request list and detail, envelope and error shape."""

import pytest
from werkzeug.exceptions import InternalServerError

from tests import factories

WRITE = {"X-Requested-With": "civic311"}


def test_services_lists_active_public_services_with_attributes(client, city):
    factories.gen_service("hidden", public=False)
    factories.gen_service("retired", active=False)
    body = client.get("/api/v1/services").get_json()
    codes = [s["service_code"] for s in body["data"]]
    assert codes == sorted(
        codes,
        key=lambda c: dict(graffiti="Graffiti", pothole="Pothole", streetlight="Streetlight out")[
            c
        ],
    )
    assert "hidden" not in codes and "retired" not in codes
    pothole = next(s for s in body["data"] if s["service_code"] == "pothole")
    assert pothole["metadata"] is True
    assert pothole["attributes"][0]["code"] == "size"
    assert pothole["attributes"][0]["values"][0] == {"key": "small", "name": "Small"}
    assert body["meta"]["count"] == 3


def test_request_detail_has_public_timeline_and_no_private_fields(client, city):
    request = factories.gen_request(
        "graffiti",
        contact_email="secret@example.net",
        contact_name="Secret Name",
        contact_phone="423-555-9999",
    )
    response = client.get(f"/api/v1/requests/{request.public_id}")
    assert response.status_code == 200
    body = response.get_json()["data"]
    assert body["id"] == request.public_id
    assert body["status"] == "open" and body["detailed_status"] == "submitted"
    assert body["neighborhood"] == "West Side"
    assert [e["kind"] for e in body["timeline"]] == ["created"]
    text = response.get_data(as_text=True)
    for secret in ("secret@example.net", "Secret Name", "423-555-9999"):
        assert secret not in text


def test_request_list_filters_by_bbox_status_and_service(client, city):
    west = factories.gen_request("graffiti", lat=35.05, long=-85.32)
    east = factories.gen_request("streetlight", lat=35.05, long=-85.27)
    from webapp.domain.lifecycle import workflow as rules
    from webapp.plumbing.extensions import db

    staff = factories.gen_user("staff")
    rules.transition(east, "closed", staff, note="Fixed it", resolution="fixed")
    db.session.commit()

    def ids(query):
        return [r["id"] for r in client.get(f"/api/v1/requests?{query}").get_json()["data"]]

    assert set(ids("")) == {west.public_id, east.public_id}
    assert ids("bbox=-85.35,35.0,-85.30,35.1") == [west.public_id]
    assert ids("status=closed") == [east.public_id]
    assert ids("status=submitted") == [west.public_id]
    assert ids("service_code=streetlight") == [east.public_id]


def test_request_list_pages(client, city):
    for _ in range(5):
        factories.gen_request("graffiti")
    body = client.get("/api/v1/requests?page=2&page_size=2").get_json()
    assert len(body["data"]) == 2
    meta = body["meta"]
    assert {k: meta[k] for k in ("page", "page_size", "total", "pages")} == {
        "page": 2, "page_size": 2, "total": 5, "pages": 3,
    }
    assert meta["total_is_exact"] is True and meta["next_after"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,91,5,40", "bbox"),
        ("bbox=1e1,50,5,40", "bbox"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
        ("status=maybe", "status"),
        ("page=x", "page"),
    ],
)
def test_bad_list_parameters_get_400_naming_the_field(client, city, query, field):
    response = client.get(f"/api/v1/requests?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field


def _assert_error_shape(response, status):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_every_error_path_keeps_the_one_error_shape(app, client, city, auth):
    # 400: missing anti-forgery header / bad parameter
    _assert_error_shape(client.post("/api/v1/requests"), 400)
    _assert_error_shape(client.get("/api/v1/requests?page=x"), 400)
    # 404: unknown request and unknown route
    _assert_error_shape(client.get("/api/v1/requests/311-999999"), 404)
    _assert_error_shape(client.get("/api/v1/nothing-here"), 404)
    # 405
    response = client.delete("/api/v1/services", headers=WRITE)
    _assert_error_shape(response, 405)
    assert "GET" in response.headers["Allow"]
    # 413
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "0b7d8a52-2c1e-4f55-9c57-3f7f5d2b9a10"},
        data={"photos": (__import__("io").BytesIO(b"x" * 5000), "a.jpg")},
        content_type="multipart/form-data",
    )
    _assert_error_shape(response, 413)
    app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024
    # 422: a rule refused the input
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "0b7d8a52-2c1e-4f55-9c57-3f7f5d2b9a11"},
        data={"service_code": "pothole", "lat": "35.05", "long": "-85.3"},
    )
    _assert_error_shape(response, 422)
    # 404: the document allows the code, but it names no service
    response = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "0b7d8a52-2c1e-4f55-9c57-3f7f5d2b9a12"},
        data={"service_code": "nope", "lat": "35.05", "long": "-85.3"},
    )
    _assert_error_shape(response, 404)
    assert response.get_json()["error"]["details"]["field"] == "service_code"


def test_401_403_and_500_keep_the_error_shape(app, client, city, auth):
    from webapp.api import bp  # noqa: F401
    from webapp.plumbing.access import login_required, roles_required

    @login_required
    def needs_login():
        return "ok"

    @roles_required("staff")
    def needs_staff():
        return "ok"

    def explodes():
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/_test/login", view_func=needs_login, endpoint="t_login")
    app.add_url_rule("/api/v1/_test/staff", view_func=needs_staff, endpoint="t_staff")
    app.add_url_rule("/api/v1/_test/boom", view_func=explodes, endpoint="t_boom")
    _assert_error_shape(client.get("/api/v1/_test/login"), 401)
    auth.login("resident")
    _assert_error_shape(client.get("/api/v1/_test/staff"), 403)
    app.logger.disabled = True
    response = client.get("/api/v1/_test/boom")
    _assert_error_shape(response, 500)
    assert "boom" not in response.get_data(as_text=True)
    assert InternalServerError.code == 500


def test_browsers_get_an_html_error_page(client, city):
    response = client.get("/requests/311-999999", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "could not find" in response.get_data(as_text=True)
