"""Area alerts against a real SMTP server: confirm by e-mail first, then new reports
near a spot or in a neighborhood arrive at once or as a daily digest, each with a
one-click unsubscribe that works twice."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tests import factories
from webapp.domain.notifications import alerts
from webapp.domain.notifications.email import email_channel
from webapp.models import AreaAlert, Neighborhood, utcnow
from webapp.plumbing.extensions import db

LINK = re.compile(r"http://civic\.test(/e/[a-z-]+/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def city(mail_app):
    """The test city."""
    found = factories.gen_city()
    db.session.commit()
    return found


def confirm_alert(mail_client, smtp_server, count: int, **form) -> AreaAlert:
    """Ask for an alert through the page, open the confirmation mail, confirm it."""
    response = mail_client.post("/alerts", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Check your e-mail" in response.get_data(as_text=True)
    assert email_channel.deliver_due() == 1
    message = smtp_server.wait_for(count)[count - 1]
    path = LINK.search(message.get_body(("plain",)).get_content()).group(1)
    assert db.session.scalars(db.select(AreaAlert)).all()[-1].confirmed_at is None
    assert "Turn on the alert" in mail_client.get(path).get_data(as_text=True)
    assert mail_client.post(path).status_code == 200
    assert mail_client.post(path).status_code == 410
    db.session.expire_all()
    return db.session.scalars(db.select(AreaAlert).order_by(AreaAlert.id.desc())).first()


def test_near_here_alert_mails_new_reports_within_the_radius_at_once(
    city, mail_client, smtp_server
):
    alert = confirm_alert(
        mail_client,
        smtp_server,
        1,
        email="liaison@example.org",
        area="near",
        lat="35.045",
        long="-85.31",
        radius="500",
        frequency="immediate",
    )
    assert alert.confirmed_at is not None

    near = factories.gen_request("pothole", lat=35.046, long=-85.31)  # ~110 m away
    factories.gen_request("pothole", lat=35.06, long=-85.31)  # ~1.7 km away
    db.session.commit()
    assert email_channel.deliver_due() == 1

    message = smtp_server.wait_for(2)[1]
    assert message["To"] == "liaison@example.org"
    assert near.public_id in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    path = urlsplit(message["List-Unsubscribe"].strip().strip("<>")).path
    for _ in range(2):
        assert mail_client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    factories.gen_request("pothole", lat=35.046, long=-85.31)
    db.session.commit()
    assert email_channel.deliver_due() == 0


def test_unconfirmed_alerts_send_nothing(city, mail_client, smtp_server):
    mail_client.post(
        "/alerts",
        data={
            "email": "someone@example.org",
            "area": "neighborhood",
            "neighborhood": str(city["west"].id),
            "frequency": "immediate",
        },
    )
    assert email_channel.deliver_due() == 1  # only the confirmation request
    factories.gen_request("pothole")
    db.session.commit()
    assert email_channel.deliver_due() == 0


def test_neighborhood_digest_comes_once_a_day_with_the_days_reports(city, mail_client, smtp_server):
    hood = city["west"]  # holds factories.INSIDE, where requests are made
    alert = confirm_alert(
        mail_client,
        smtp_server,
        1,
        email="digest@example.org",
        area="neighborhood",
        neighborhood=str(hood.id),
        frequency="daily",
    )
    first = factories.gen_request("pothole")
    second = factories.gen_request("graffiti")
    db.session.commit()
    assert email_channel.deliver_due() == 0  # nothing at once for a daily alert

    assert alerts.queue_digests(now=utcnow()) == 0  # the day is not over yet
    tomorrow = alert.last_digest_at + timedelta(hours=24, minutes=1)
    assert alerts.queue_digests(now=tomorrow) == 1
    db.session.commit()
    assert email_channel.deliver_due() == 1
    digest = smtp_server.wait_for(2)[1]
    text = digest.get_body(("plain",)).get_content()
    assert "2 new reports" in digest["Subject"]
    assert first.public_id in text and second.public_id in text
    assert alerts.queue_digests(now=tomorrow + timedelta(hours=1)) == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {"email": "nope", "area": "neighborhood", "neighborhood": "1", "frequency": "daily"},
            "email",
        ),
        ({"email": "a@example.org", "area": "near", "radius": "500", "frequency": "daily"}, "area"),
        (
            {
                "email": "a@example.org",
                "area": "near",
                "lat": "35.045",
                "long": "-85.31",
                "radius": "7",
                "frequency": "daily",
            },
            "radius",
        ),
        (
            {
                "email": "a@example.org",
                "area": "neighborhood",
                "neighborhood": "1",
                "frequency": "hourly",
            },
            "frequency",
        ),
    ],
)
def test_bad_alert_forms_are_refused_with_a_clear_message(city, mail_client, form, field):
    if form.get("neighborhood"):
        form["neighborhood"] = str(db.session.scalars(db.select(Neighborhood.id)).first())
    response = mail_client.post("/alerts", data=form)
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalars(db.select(AreaAlert)).all() == []


def test_request_page_links_to_an_alert_near_it(city, mail_client):
    request = factories.gen_request("pothole")
    db.session.commit()
    page = mail_client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert "E-mail me about new reports near here" in page
    form = mail_client.get(f"/alerts?lat={request.lat}&long={request.long}&area=near")
    assert 'id="area-near" name="area" value="near" checked' in form.get_data(as_text=True)
