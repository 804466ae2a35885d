"""Hostile input at every door gets a clear 4xx, never a 500, on SQLite and PostgreSQL.

NUL bytes, over-long text, out-of-range Open311 dates, digits that are not ASCII,
20-digit numbers and control characters echoed into Open311 XML: each table below
names the door and what it must answer.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.models import RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
TWENTY_DIGITS = "9" * 20
NUL = "\x00"


def report(**overrides) -> dict:
    """A valid graffiti report inside the city, as the outbox sends it."""
    data = {
        "service_code": "graffiti",
        "lat": str(factories.INSIDE[0]),
        "long": str(factories.INSIDE[1]),
        "description": "Tags on the underpass",
    }
    data.update(overrides)
    return data


def submit(client, data: dict):
    return client.post(
        "/api/v1/requests",
        data=data,
        content_type="multipart/form-data",
        headers={**WRITE, "Idempotency-Key": str(uuid.uuid4())},
    )


def count_requests() -> int:
    return db.session.scalar(select(func.count(ServiceRequest.id)))


def parse_xml(body: bytes) -> ElementTree.Element:
    """Parse with a real XML parser: a malformed document raises."""
    return ElementTree.fromstring(body)  # noqa: S314 - our own output


def error_of(response) -> dict:
    assert response.is_json, response.get_data(as_text=True)[:200]
    return response.get_json()["error"]


# --- NUL bytes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "service_code",
        "description",
        "landmark",
        "address",
        "contact_name",
        "contact_email",
        "contact_phone",
        "attribute[size]",
        "captured_at",
    ],
)
def test_nul_in_any_report_field_is_refused_and_nothing_is_stored(client, city, field):
    response = submit(client, report(**{field: f"a{NUL}b"}))
    assert response.status_code in (400, 422)
    assert error_of(response)["details"]["field"] == field
    assert count_requests() == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/requests?service_code=%00",
        "/api/v1/requests?status=open%00",
        "/api/v1/requests?bbox=%00",
        "/api/v1/requests?page=1%00",
        "/api/v1/requests/nearby?lat=35.05&long=-85.3&service_code=%00",
        "/api/v1/geocode?q=main%00street",
        "/api/v1/requests?%00=1",
    ],
)
def test_nul_in_an_api_filter_is_a_400(client, city, url):
    response = client.get(url)
    assert response.status_code == 400
    assert error_of(response)["status"] == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/requests/%00",
        "/api/v1/requests/311-%00",
        "/requests/%00",
        "/open311/v2/requests/%00.json",
        "/open311/v2/services/%00.json",
    ],
)
def test_nul_in_a_path_is_not_found(client, city, url):
    assert client.get(url).status_code == 404


def test_nul_in_a_staff_path_is_not_found(client, city, auth):
    auth.login("staff")
    assert client.get("/staff/requests/%00").status_code == 404
    response = client.post("/api/v1/staff/requests/%00/notes", json={"note": "x"}, headers=WRITE)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("notes", {"note": f"Crew{NUL}sent"}),
        (
            "transition",
            {"status": "closed", "resolution": "referred", "note": "x", "referred_to": NUL},
        ),
        ("merge", {"survivor": f"311-{NUL}"}),
        ("assign", {"department_id": f"1{NUL}"}),
    ],
)
def test_nul_in_a_staff_api_body_is_a_422(client, city, auth, path, body):
    auth.login("staff")
    req = factories.gen_request()
    response = client.post(
        f"/api/v1/staff/requests/{req.public_id}/{path}", json=body, headers=WRITE
    )
    assert response.status_code == 422
    assert error_of(response)["details"]["fields"]
    events = db.session.scalar(select(func.count(RequestEvent.id)))
    assert events == 1  # only "created"


def test_nul_in_a_push_subscription_is_a_422(client, city):
    body = {"endpoint": f"https://push.example.com/{NUL}", "keys": {"p256dh": "x", "auth": "y"}}
    response = client.post("/api/v1/push/subscriptions", json=body, headers=WRITE)
    assert response.status_code == 422
    assert error_of(response)["details"]["field"] == "endpoint"


@pytest.mark.parametrize("kind", ["csv", "geojson"])
def test_public_export_with_a_nul_filter_is_refused_before_the_stream(client, city, kind):
    factories.gen_request()
    response = client.get(f"/export/requests.{kind}?service_code=graf%00fiti")
    assert response.status_code == 400
    assert not response.is_streamed or "export" not in response.headers.get(
        "Content-Disposition", ""
    )


@pytest.mark.parametrize("kind", ["csv", "geojson"])
def test_staff_export_with_a_nul_or_too_long_filter_is_refused(client, city, auth, kind):
    auth.login("staff")
    assert client.get(f"/staff/export/requests.{kind}?service_code=%00").status_code == 400
    assert client.get(f"/staff/export/requests.{kind}?service_code={'x' * 65}").status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/open311/v2/requests.json?service_code=%00",
        "/open311/v2/requests.xml?status=open%00",
        "/open311/v2/requests.json?service_request_id=311-000001%00",
        "/open311/v2/services.json?jurisdiction_id=%00",
    ],
)
def test_nul_in_an_open311_parameter_is_a_400_in_the_open311_shape(client, city, url):
    response = client.get(url)
    assert response.status_code == 400
    if url.split("?")[0].endswith(".json"):
        assert response.get_json()[0]["code"] == 400
    else:
        assert parse_xml(response.data).find("error/code").text == "400"


def test_nul_in_an_open311_post_is_a_400(client, city):
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "graffiti",
            "description": f"x{NUL}",
            "lat": "35.05",
            "long": "-85.3",
        },
    )
    assert response.status_code == 400
    assert count_requests() == 0


# --- over-long text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("contact_name", 120),
        ("contact_email", 254),
        ("contact_phone", 40),
        ("landmark", 255),
        ("address", 255),
        ("service_code", 64),
        ("description", 4000),
    ],
)
def test_over_long_report_fields_are_a_422_naming_the_field(client, city, field, limit):
    assert submit(client, report(**{field: "x" * limit})).status_code != 500
    db.session.rollback()
    response = submit(client, report(**{field: "x" * (limit + 1)}))
    assert response.status_code == 422
    error = error_of(response)
    assert error["details"]["field"] == field
    assert "too long" in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("contact_name", "Ana\x07"), ("landmark", "by the\x1bbridge"), ("address", "Main\u0085St")],
)
def test_control_characters_in_single_line_fields_are_refused(client, city, field, value):
    response = submit(client, report(**{field: value}))
    assert response.status_code == 422
    assert error_of(response)["details"]["field"] == field


def test_multi_line_text_keeps_tabs_and_normalises_every_line_ending(client, city):
    response = submit(client, report(description="Line one\r\nLine\ttwo\rthree"))
    assert response.status_code == 201
    assert response.get_json()["data"]["description"] == "Line one\nLine\ttwo\nthree"


def test_over_long_open311_contact_is_refused_not_a_500(client, city):
    from webapp.domain.people import api_keys

    key, _ = api_keys.issue("fuzz")
    db.session.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "graffiti",
            "lat": str(factories.INSIDE[0]),
            "long": str(factories.INSIDE[1]),
            "email": "a" * 250 + "@example.com",
        },
    )
    assert 400 <= response.status_code < 500
    assert count_requests() == 0


# --- Open311 dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "end_date=0001-01-01",
        "start_date=9999-12-31",
        "start_date=0001-01-01T00:00:00%2B05:00",
        "end_date=9999-12-31T23:59:59-05:00",
        "updated_after=0001-01-01T00:00:00Z",
        "updated_before=9999-12-31T23:59:59-10:00",
        "start_date=1800-01-01&end_date=1800-02-01",
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_out_of_range_open311_dates_are_a_400(client, city, query, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}?{query}")
    assert response.status_code == 400
    if fmt == "json":
        assert response.get_json()[0]["code"] == 400
    else:
        assert parse_xml(response.data).find("error/code").text == "400"


# --- digits that are not ASCII, and unbounded numbers -----------------------------------

ODD_NUMBERS = ["²", "٣", "１", TWENTY_DIGITS, "-" + TWENTY_DIGITS, "1e3", "0x10"]


@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_api_paging_refuses_odd_numbers_with_400(client, city, name, value):
    response = client.get(f"/api/v1/requests?{name}={quote(value)}")
    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == name


@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize("name", ["radius", "limit"])
def test_nearby_refuses_odd_numbers_with_400(client, city, name, value):
    response = client.get(f"/api/v1/requests/nearby?lat=35.05&long=-85.3&{name}={quote(value)}")
    assert response.status_code == 400


@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize(
    "name", ["page", "service", "department", "neighborhood", "age", "template"]
)
def test_staff_queue_filters_refuse_odd_numbers_with_400(client, city, auth, name, value):
    auth.login("staff")
    target = "/staff/" if name != "template" else None
    if target is None:
        req = factories.gen_request()
        target = f"/staff/requests/{req.public_id}"
    assert client.get(f"{target}?{name}={quote(value)}").status_code == 400


@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_liaison_neighborhood_refuses_odd_numbers_with_400(client, city, auth, value):
    auth.login("staff")
    assert client.get(f"/liaison/?neighborhood={quote(value)}").status_code == 400


@pytest.mark.parametrize("value", ["²", TWENTY_DIGITS])
def test_rating_with_odd_digits_is_explained_not_a_500(client, city, value):
    req = factories.gen_request()
    response = client.post(f"/requests/{req.public_id}/rating", data={"rating": value})
    assert response.status_code in (302, 303)


@pytest.mark.parametrize("field", ["department", "assignee"])
@pytest.mark.parametrize("value", ["²", TWENTY_DIGITS])
def test_staff_assign_form_with_odd_digits_is_explained_not_a_500(client, city, auth, field, value):
    auth.login("staff")
    req = factories.gen_request()
    response = client.post(f"/staff/requests/{req.public_id}/assign", data={field: value})
    assert response.status_code in (302, 303)


@pytest.mark.parametrize("field", ["department_id", "assignee_id"])
@pytest.mark.parametrize("value", ["²", TWENTY_DIGITS, 10**20, -1])
def test_staff_assign_api_refuses_odd_ids_with_422(client, city, auth, field, value):
    auth.login("staff")
    req = factories.gen_request()
    response = client.post(
        f"/api/v1/staff/requests/{req.public_id}/assign", json={field: value}, headers=WRITE
    )
    assert response.status_code == 422
    assert error_of(response)["details"]["field"] == field


@pytest.mark.parametrize("value", ["²", TWENTY_DIGITS])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_open311_paging_refuses_odd_numbers_with_400(client, city, name, value):
    assert client.get(f"/open311/v2/requests.json?{name}={quote(value)}").status_code == 400


# --- Open311 XML errors stay well-formed ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/open311/v2/requests/311-%01%1b.xml",
        "/open311/v2/services/pot%0bhole.xml",
        "/open311/v2/services.xml?jurisdiction_id=x%01y%1f",
        "/open311/v2/tokens/%08abc.xml",
    ],
)
def test_open311_xml_errors_echoing_control_characters_are_well_formed(client, city, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500
    root = parse_xml(response.data)
    assert root.tag == "errors"
    assert root.find("error/code").text == str(response.status_code)


# --- the document and the checks come from one declaration -----------------------------


def test_documented_limits_are_the_columns_lengths(client):
    document = client.get("/api/v1/openapi.json").get_json()
    form = document["components"]["schemas"]["CreateRequestForm"]["properties"]
    for field in ("contact_name", "contact_email", "contact_phone", "landmark", "address"):
        column = getattr(ServiceRequest, field)
        assert form[field]["maxLength"] == column.type.length, field
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/requests"]["get"]["parameters"]}
    # A blank page or page size is "not chosen": the number is the first branch.
    assert parameters["page_size"]["schema"]["anyOf"][0]["maximum"] == 200
    assert parameters["page"]["schema"]["anyOf"][0]["maximum"] == 1_000_000


def test_a_refused_body_names_every_wrong_field_in_the_one_error_shape(client, city, auth):
    auth.login("staff")
    req = factories.gen_request()
    response = client.post(
        f"/api/v1/staff/requests/{req.public_id}/transition",
        json={"status": "maybe", "referred_to": "x" * 300, "surprise": 1},
        headers=WRITE,
    )
    assert response.status_code == 422
    error = error_of(response)
    assert set(error) == {"status", "code", "message", "details"}
    assert error["code"] == "unprocessable_entity"
    assert set(error["details"]["fields"]) == {"status", "referred_to", "surprise"}
