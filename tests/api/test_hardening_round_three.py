"""Defects found by an outside attack run, each held by a test that failed before."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AreaAlert, ServiceRequest

PHONE = "423-555-0100"


@pytest.mark.parametrize("number", ["²", "311-²", "٣", "9" * 20, "311-" + "0" * 30])
def test_find_refuses_a_number_that_is_not_ascii_digits_plainly(client, city, number):
    response = client.get("/find", query_string={"number": number}, follow_redirects=True)
    assert response.status_code == 200
    assert "Please type the request number" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"neighborhood": "²"},
        {"neighborhood": "9" * 20},
        {"area": "near", "lat": "35.04", "long": "-85.3", "radius": "abc"},
        {"area": "near", "lat": "NaN", "long": "-85.3", "radius": "500"},
        {"area": "near", "lat": "1e309", "long": "-85.3", "radius": "500"},
    ],
)
def test_an_area_alert_with_a_hostile_choice_is_a_clear_422(client, city, fields):
    response = client.post(
        "/alerts", data={"email": "someone@example.net", "frequency": "daily", **fields}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AreaAlert)) == 0


def test_every_page_field_follows_the_text_rules_at_the_door(client, auth, city):
    auth.login("staff")
    response = client.get("/staff/", query_string={"q": "\x1b[31m"})
    assert response.status_code == 400
    response = client.post("/auth/sign-in", data={"email": "a@example.net\x07", "password": "x"})
    assert response.status_code == 400


def test_the_desk_refuses_a_request_key_longer_than_its_column(client, auth, city):
    auth.login("staff")
    response = client.post(
        "/staff/desk/requests",
        data={
            "service_code": "graffiti",
            "lat": "35.045",
            "long": "-85.31",
            "description": "Tags",
            "caller_phone": PHONE,
            "channel": "phone",
            "client_uuid": "x" * 5000,
        },
        follow_redirects=True,
    )
    assert response.status_code < 500
    assert "The request key must be a UUID." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == 0
