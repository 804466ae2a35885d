"""The front door's API operations are declared like every other: checked and documented.

Knowledge answers, "this answered my question", the call-taker's POST /staff/requests and
a follow carrying a neighbor's note each refuse hostile input with a clear 4xx that names
the field, and leave nothing written; the document describes what they accept.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.domain.intake import answers
from webapp.models import Contact, ServiceRequest
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}
NUL = "\x00"


def _answer():
    answers.save(title="Bulky item pickup", body="Call 311.", topics=["bulky pickup"])
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_document_describes_the_front_door(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    search = paths["/api/v1/answers"]["get"]
    assert {p["name"] for p in search["parameters"]} == {"q", "service_code", "topic", "locale"}
    resolved = paths["/api/v1/answers/{slug}/resolved"]["post"]
    assert resolved["requestBody"]["required"] is False
    follow = paths["/api/v1/requests/{public_id}/follow"]["post"]
    assert follow["requestBody"]["required"] is False
    assert "multipart/form-data" in follow["requestBody"]["content"]
    desk = paths["/api/v1/staff/requests"]["post"]
    assert {"Idempotency-Key", "X-Requested-With"} <= {p["name"] for p in desk["parameters"]}
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schema["StaffLogBody"]["properties"]["channel"]["enum"] == [
        "phone", "walk_in", "email", "chat"]
    assert schema["StaffLogBody"]["properties"]["caller_phone"]["anyOf"][0]["maxLength"] == 40


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=" + "x" * 201, "q"),
        ("topic=" + "t" * 81, "topic"),
        ("service_code=a%01b", "service_code"),
        ("unknown=1", "unknown"),
    ],
)
def test_answer_search_refuses_bad_filters(client, city, query, field):
    _answer()
    response = client.get(f"/api/v1/answers?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field


def test_answer_search_with_blank_filters_lists_everything(client, city):
    _answer()
    body = client.get("/api/v1/answers?q=&topic=&service_code=").get_json()
    assert [a["slug"] for a in body["data"]] == ["bulky-item-pickup"]


def test_this_answered_my_question_needs_no_body_and_refuses_a_bad_one(client, city):
    _answer()
    url = "/api/v1/answers/bulky-item-pickup/resolved"
    client.get("/help")  # the page offers this browser a device, which it keeps
    assert client.post(url, headers=WRITE).status_code == 201
    again = client.post(url, data={"channel": "web"}, headers=WRITE)
    assert again.status_code == 201 and again.get_json()["data"]["recorded"] is False
    refused = client.post(url, json={"channel": "fax"}, headers=WRITE)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"]["field"] == "channel"
    assert client.post(url, json={"service_code": NUL}, headers=WRITE).status_code == 422
    assert [c.channel for c in db.session.scalars(select(Contact))] == ["pwa"]


def _call(**extra):
    return {
        "channel": "phone",
        "service_code": "pothole",
        "lat": factories.INSIDE[0],
        "long": factories.INSIDE[1],
        "attributes": {"size": "large"},
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"caller_phone": "5" * 41}, 422, "caller_phone"),
        ({"caller_name": "Pat\x00"}, 422, "caller_name"),
        ({"description": "x" * 4001}, 422, "description"),
        ({"address": "a\x07b"}, 422, "address"),
        ({"lat": "NaN"}, 422, "lat"),
        ({"extra": "field"}, 422, "extra"),
    ],
)
def test_the_desk_refuses_hostile_input(client, auth, city, change, status, field):
    auth.login("staff")
    response = client.post("/api/v1/staff/requests", json=_call(**change), headers=WRITE)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["details"]["field"] == field
    assert _count(ServiceRequest) == 0


def test_the_desk_takes_a_form_with_attribute_fields(client, auth, city):
    auth.login("staff")
    form = {
        "channel": "walk_in",
        "service_code": "pothole",
        "lat": str(factories.INSIDE[0]),
        "long": str(factories.INSIDE[1]),
        "attribute[size]": "large",
        "caller_name": "Pat",
        "confirm_by_email": "",
    }
    response = client.post(
        "/api/v1/staff/requests",
        data=form,
        headers={**WRITE, "Idempotency-Key": "not-a-uuid"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    response = client.post(
        "/api/v1/staff/requests", data=form, headers=WRITE, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["data"]
    assert (body["channel"], body["attributes"], body["contact_name"]) == (
        "walk_in",
        {"size": "large"},
        "Pat",
    )


def test_a_follow_with_a_hostile_note_is_refused_and_counts_nobody(client, city):
    request = factories.gen_request()
    client.get(f"/requests/{request.public_id}")  # the page offers a device to keep
    for comment in ("x" * 4001, "bad\x1bescape"):
        response = client.post(
            f"/api/v1/requests/{request.public_id}/follow",
            data={"comment": comment},
            headers=WRITE,
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert response.get_json()["error"]["details"]["field"] == "comment"
    db.session.refresh(request)
    assert request.supporters_count == 0
    assert not [e for e in request.events if e.kind == "supporter_comment"]
    plain = client.post(f"/api/v1/requests/{request.public_id}/follow", headers=WRITE)
    assert plain.status_code == 200
    assert plain.get_json()["data"] == {"following": True, "supporters_count": 1}
