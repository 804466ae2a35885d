"""Contacts per channel per week, the self-service share, and contacts.csv."""

import csv
import io
from datetime import timedelta

from tests import factories
from webapp.domain.figures import channel_stats
from webapp.domain.intake import answers, contacts
from webapp.domain.people import devices
from webapp.models import utcnow
from webapp.plumbing.extensions import db


def _contacts(city):
    staff = factories.gen_user("staff")
    answer = answers.save(title="Bulky item pickup", body="Book it.")
    factories.gen_request("pothole", channel="pwa")
    factories.gen_request("pothole", channel="pwa", contact_email="=cmd|'/C_calc'!A0@example.org")
    factories.gen_request("graffiti", channel="open311")
    contacts.record_self_service(answer, channel="web", device=devices.create()[1])
    contacts.record_information_call(
        staff,
        topic="Where is Ann Smith's car?",
        caller_name="Ann Smith",
        caller_phone="423-555-0100",
    )
    contacts.record(
        channel="email", kind="triage", caller_email="bo@example.org", topic="My name is Bo"
    )
    old = contacts.record_information_call(staff, channel="walk_in", answer=answer)
    old.created_at = utcnow() - timedelta(weeks=3)
    db.session.commit()


def test_contacts_per_channel_per_week_and_the_self_service_share(city):
    _contacts(city)
    figures = channel_stats.weekly(weeks=4)
    this_week, _w1, _w2, three_ago = figures.weeks
    assert this_week.by_channel == {"pwa": 2, "open311": 1, "web": 1, "phone": 1, "email": 1}
    assert three_ago.by_channel == {"walk_in": 1}
    assert this_week.self_service_answers == 1 and figures.answers_resolved == 1
    assert this_week.self_service_share == 0.6  # 3 own (2 app, 1 web) of 5 (+ phone, e-mail)
    assert figures.self_service_share == 0.5  # 3 of 6 with the walk-in
    assert channel_stats.weekly(weeks=2).totals.get("walk_in") is None


def test_public_contacts_csv_has_no_personal_data_and_staff_csv_has(client, auth, city):
    _contacts(city)
    public = client.get("/export/contacts.csv")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and text.startswith("contact_id,created_at,channel")
    for secret in ("Ann Smith", "555-0100", "bo@example.org", "My name is Bo", "calc"):
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7 and {r["channel"] for r in rows} >= {"pwa", "phone", "walk_in"}
    assert "Bulky item pickup" in {r["topic"] for r in rows}
    auth.login("staff")
    private = client.get("/staff/export/contacts.csv")
    body = private.get_data(as_text=True)
    assert private.headers["Cache-Control"] == "no-store"
    assert "Ann Smith" in body and "bo@example.org" in body
    assert "'=cmd" in body  # a formula is never live in a spreadsheet
    page = client.get("/staff/contacts").get_data(as_text=True)
    assert "Self-service share: 50%" in page


def test_stats_publishes_the_channel_figures(client, city):
    _contacts(city)
    page = client.get("/stats").get_data(as_text=True)
    assert "How residents reach the city" in page and "Self-service share over the last" in page
    assert "Ann Smith" not in page and "bo@example.org" not in page
