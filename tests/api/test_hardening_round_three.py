"""Defects found by an outside attack run, each held by a test that failed before."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from tests import factories
from webapp.domain.errors import DomainError
from webapp.domain.intake import contacts, routing
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.email import email_channel, mail_queue
from webapp.domain.open311 import remote_media
from webapp.domain.people import accounts, links
from webapp.models import (
    Answer,
    AreaAlert,
    Contact,
    Device,
    NotificationOutbox,
    RoutingRule,
    ServiceRequest,
)
from webapp.plumbing.deployment import InsecureConfiguration
from webapp.plumbing.extensions import db

PHONE = "423-555-0100"
WRITE = {"X-Requested-With": "civic311"}


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


@pytest.mark.parametrize(
    "key",
    ["changemechangemechangemechangeme", " " * 40, "0" * 64, "abcdefghijklmnopqrstuvwxyz012345"],
)
def test_a_long_but_guessable_key_refuses_to_start_in_production(make_app, key):
    with pytest.raises(InsecureConfiguration, match="guessable"):
        make_app(SECRET_KEY=key, TESTING=False, DEBUG=False, PUBLIC_URL="https://311.example")


def test_a_random_key_of_32_characters_starts(make_app):
    key = secrets.token_urlsafe(24)
    assert make_app(SECRET_KEY=key, TESTING=False, PUBLIC_URL="https://311.example")


def test_production_refuses_to_start_without_a_public_address_for_mail_links(make_app):
    with pytest.raises(InsecureConfiguration, match="PUBLIC_URL"):
        make_app(SECRET_KEY=secrets.token_urlsafe(48), TESTING=False, DEBUG=False)
    app = make_app(
        SECRET_KEY=secrets.token_urlsafe(48), TESTING=False, TRUSTED_HOSTS=["311.example"]
    )
    with app.app_context():
        assert mail_queue.base_url() == "https://311.example"


@pytest.mark.parametrize("trusted", [None, ["311.testville.example", "evil.example"]])
def test_a_sign_in_link_never_takes_its_address_from_the_host_header(
    make_app, smtp_server, trusted
):
    app = make_app(**smtp_server.settings(), TRUSTED_HOSTS=trusted)
    with app.app_context():
        factories.gen_city()
        factories.gen_request(contact_email="victim@example.net")
        db.session.commit()
        response = app.test_client().post(
            "/my/sign-in-link",
            data={"email": "victim@example.net"},
            headers={"Host": "evil.example"},
        )
        assert response.status_code == 302
        email_channel.deliver_due()
    sign_in = [m for m in smtp_server.wait_for(2) if "another device" in m["Subject"]]
    text = sign_in[0].get_body(("plain",)).get_content()
    assert "evil.example" not in text
    expected = (
        "https://311.testville.example/e/sign-in/"
        if trusted
        else "http://localhost:5000/e/sign-in/"
    )
    assert expected in text


def test_cookies_are_secure_by_default_when_the_public_address_is_https(make_app):
    app = make_app(PUBLIC_URL="https://311.example")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        factories.gen_city()
        user = factories.gen_user("staff")
        db.session.commit()
        response = app.test_client().post(
            "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
        )
    assert "Secure" in response.headers["Set-Cookie"]
    assert make_app(PUBLIC_URL="http://localhost:5000").config["SESSION_COOKIE_SECURE"] is False
    assert (
        make_app(PUBLIC_URL="https://311.example", SESSION_COOKIE_SECURE=False).config[
            "SESSION_COOKIE_SECURE"
        ]
        is False
    )


@pytest.mark.parametrize("host", ["[64:ff9b::7f00:1]", "[::7f00:1]", "[2002:7f00:1::]"])
def test_a_media_url_that_hides_a_loopback_address_in_ipv6_is_never_fetched(app, host):
    fetched = remote_media.fetch(f"http://{host}:9/photo.jpg")
    assert fetched.data is None
    assert fetched.error == "not a public address"


def _helpful_answer():
    answer = Answer(slug="trash-day", title="Trash day", summary="When", body="Mondays.")
    db.session.add(answer)
    db.session.commit()
    return "/api/v1/answers/trash-day/resolved"


def test_this_answered_my_question_needs_a_kept_device_and_counts_it_once_a_day(app, city):
    url = _helpful_answer()
    script = app.test_client()
    refused = [script.post(url, headers=WRITE).status_code for _ in range(5)]
    assert refused == [401] * 5
    browser = app.test_client()
    browser.get("/help")
    answers = [browser.post(url, headers=WRITE).get_json()["data"]["recorded"] for _ in range(3)]
    assert answers == [True, False, False]
    [contact] = db.session.scalars(select(Contact)).all()
    tomorrow = contact.created_at + timedelta(days=1, seconds=1)
    device = db.session.get(Device, contact.device_id)
    assert contacts.record_self_service(contact.answer, device=device, now=tomorrow)


def test_this_answered_my_question_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FOLLOW="3 per hour")
    with app.app_context():
        factories.gen_city()
        url = _helpful_answer()
        statuses = [app.test_client().post(url, headers=WRITE).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_refused_media_urls_are_never_republished_and_credentials_never_kept(client, city):
    from tests.api.test_open311_media_and_location import _created, _key, _media_records, _post

    key = _key()
    secret = "http://user:pw@127.0.0.1:9/photo.jpg"
    response = _post(client, [("api_key", key), ("media_url", secret)])
    item = _created(response)
    body = client.get(f"/open311/v2/requests/{item.public_id}.json").get_data(as_text=True)
    assert "pw@" not in body and "user:" not in body
    assert "127.0.0.1" not in body, "a refused URL is not republished"
    assert [r["url"] for r in _media_records(item)] == ["http://127.0.0.1:9/photo.jpg"]
    assert remote_media.public_reference("https://a:b@photos.example/x.jpg", "answered 404") == (
        "https://photos.example/x.jpg"
    )


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Polygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": []},
        {
            "type": "Polygon",
            "coordinates": [[[-85.3, 35.0], [-85.3, 35.0], [-85.3, 35.0], [-85.3, 35.0]]],
        },
    ],
)
def test_a_routing_rule_refuses_an_empty_area(app, city, area):
    with pytest.raises(DomainError, match="GeoJSON polygon"):
        routing.save_rule(department_id=city["department"].id, area_geojson=area)
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == 0


def test_after_yes_its_fixed_the_same_mails_no_link_changes_nothing(mail_app, mail_client):
    factories.gen_city()
    staff = factories.gen_user("staff")
    req = factories.gen_request(contact_email="rita@example.net")
    requests_domain.transition(req, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    closure = {"r": req.id, "e": "rita@example.net", "c": int(req.closed_at.timestamp())}
    yes = mail_client.post(f"/e/fixed/{links.make(links.FIXED, **closure)}")
    assert yes.status_code == 200
    no = mail_client.post(
        f"/e/not-fixed/{links.make(links.NOT_FIXED, **closure)}", data={"comment": "Still there"}
    )
    assert no.status_code == 410
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).is_closed


def test_find_by_number_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FIND="5 per minute")
    client = app.test_client()
    statuses = [client.get(f"/find?number={n}").status_code for n in range(1, 8)]
    assert statuses == [302] * 5 + [429] * 2


@pytest.mark.parametrize("password", ["civic311-demo", "Chattanooga311!", "chattanooga.tn.us1"])
def test_the_password_policy_refuses_the_sites_own_words(app, city, password):
    with pytest.raises(DomainError, match="too common"):
        accounts.create_user("new@example.net", password, "New Person")


def test_csv_downloads_name_their_charset_once(client, auth, city):
    factories.gen_request()
    db.session.commit()
    auth.login("staff")
    for url in (
        "/export/requests.csv",
        "/export/contacts.csv",
        "/staff/export/requests.csv",
        "/staff/export/contacts.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200 and response.get_data(), url
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", url


def _statements_for_sign_in_link(app, client, address: str) -> list[str]:
    """The SQL the sign-in-link form runs for ``address`` (kinds of statement, in order)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0].upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post("/my/sign-in-link", data={"email": address})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 302
    return seen


def test_a_sign_in_link_does_the_same_work_whether_or_not_the_address_reported(app, client, city):
    factories.gen_request(contact_email="reporter@example.net")
    db.session.commit()
    client.post("/my/sign-in-link", data={"email": "warm-up@example.net"})
    reporter = _statements_for_sign_in_link(app, client, "reporter@example.net")
    stranger = _statements_for_sign_in_link(app, client, "stranger@example.net")
    assert reporter == stranger
    rows = {r.email_to: r.state for r in db.session.scalars(select(NotificationOutbox))}
    assert rows["reporter@example.net"] == "pending"
    assert rows["stranger@example.net"] == "dead"  # stored finished: never sent
