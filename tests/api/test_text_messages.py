"""Text messages end to end against a local fake Twilio (tests/fakes/fake_sms_provider.py):
the webhook signed by the twilio package's own validator, replies read from the TwiML,
outbound texts received by the fake's REST API, MMS photos served by it, and places
found by the fake Nominatim. Never a mock of the twilio library."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from tests.data import make_samples
from tests.fakes import serve
from tests.fakes.fake_sms_provider import FakeSmsProvider, reply_text
from tests.fakes.nominatim import FakeNominatim
from webapp.domain import sms_segments
from webapp.domain.lifecycle import workflow
from webapp.domain.notifications import text
from webapp.models import (
    Contact,
    NotificationOutbox,
    ServiceRequest,
    TextMessage,
    TextNumber,
    utcnow,
)
from webapp.plumbing.extensions import db

PHONE = "+14235550123"
CITY = ZoneInfo("America/New_York")


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def city_time(hour: int, days: int = 1) -> datetime:
    """``hour`` o'clock city time, ``days`` after today (always after every row's
    creation, so every queued text is due)."""
    local = utcnow().astimezone(CITY).date() + timedelta(days=days)
    return datetime.combine(local, time(hour), CITY).astimezone(UTC)


@pytest.fixture
def sms():
    """The fake Twilio on 127.0.0.1."""
    fake = FakeSmsProvider()
    running = serve(fake)
    fake.base_url = running.url
    yield fake
    running.stop()


@pytest.fixture
def geo():
    """A fake Nominatim that finds a place only when every word of the query names it."""
    fake = FakeNominatim(strict=True)
    running = serve(fake)
    yield fake, running
    running.stop()


@pytest.fixture
def text_app(make_app, sms, geo):
    from webapp.domain.geo import geocoding

    _fake, running = geo
    app = make_app(
        **sms.settings(), GEOCODER_DOMAIN=f"127.0.0.1:{running.port}", GEOCODER_TIMEOUT=1.0
    )
    geocoding.reset()
    with app.app_context():
        city = factories.gen_city()
        city["pothole"].translations = {"es": {"name": "Bache", "keywords": "bache, hoyo"}}
        db.session.commit()
        yield app


@pytest.fixture
def client(text_app):
    return text_app.test_client()


def say(sms, client, body="", phone=PHONE, **kwargs) -> str | None:
    response = sms.webhook(client, phone, body, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    return reply_text(response)


def requests_made() -> list[ServiceRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


def conversation_figures(rows: list[TextMessage]) -> tuple[int, int]:
    """(messages, segments) both ways."""
    messages = sum(1 + bool(r.reply) for r in rows)
    segments = sum(
        sms_segments.segments(r.body) + (sms_segments.segments(r.reply) if r.reply else 0)
        for r in rows
    )
    return messages, segments


def report_a_pothole(sms, client, words, place, phone=PHONE) -> tuple[list[str], ServiceRequest]:
    photo = sms.add_media(f"pothole-{phone[-4:]}.jpg", jpeg_bytes())
    replies = [
        say(sms, client, words, phone),
        say(sms, client, place, phone),
        say(sms, client, "", phone, media=[(photo, "image/jpeg")]),
    ]
    [request] = [r for r in requests_made() if r.contact_phone == phone]
    return replies, request


# --- the journey -----------------------------------------------------------------------


def test_pothole_by_text_to_closure_text_and_not_fixed(client, sms, capsys):
    replies, request = report_a_pothole(
        sms, client, "There is a huge pothole, my tire blew", "101 East 11th Street"
    )

    assert "where is it" in replies[0]
    assert "101" in replies[1] and "SKIP" in replies[1]
    assert request.public_id in replies[2] and f"/requests/{request.public_id}" in replies[2]
    assert (request.channel, request.service.service_code) == ("text", "pothole")
    assert len(request.photos) == 1 and request.locale == "en"
    assert (round(request.lat, 4), round(request.long, 4)) == (35.0456, -85.3097)
    [contact] = db.session.scalars(select(Contact).where(Contact.request_id == request.id))
    assert (contact.channel, contact.caller_phone) == ("text", PHONE)
    assert "> There is a huge pothole" in contact.note and request.public_id in contact.note
    for reply in replies:
        assert sms_segments.segments(reply) <= 2 and sms_segments.is_gsm7(reply)

    staff = factories.gen_user("staff")
    workflow.transition(request, "closed", staff, note="Filled today.", resolution="fixed")
    db.session.commit()
    noon = city_time(12)
    assert text.deliver_due(now=noon) == 1
    assert text.deliver_due(now=noon + timedelta(minutes=5)) == 0
    [closure] = sms.to(PHONE)
    assert request.public_id in closure.body and "Fixed" in closure.body
    assert "NOT FIXED" in closure.body and sms_segments.segments(closure.body) <= 2

    reopened = say(sms, client, f"{request.public_id} NOT FIXED still a hole")
    db.session.expire_all()
    assert "open again" in reopened
    assert request.reopened and request.detailed_status == "acknowledged"

    rows = list(db.session.scalars(select(TextMessage).order_by(TextMessage.id)))[:3]
    messages, segments = conversation_figures(rows)
    with capsys.disabled():
        print(f"\n[figures] English pothole conversation: {messages} messages, {segments} segments")
        print("[figures] replies:", [(len(r), sms_segments.segments(r)) for r in replies])
        print("[figures] closure:", len(closure.body), sms_segments.segments(closure.body))
    assert messages == 6


def test_the_same_in_spanish(client, sms, capsys):
    replies, request = report_a_pothole(
        sms,
        client,
        "Hay un bache enorme en la calle, se me rompió la llanta",
        "101 East 11th Street",
    )

    assert "dónde" in replies[0].lower() or "donde" in replies[0].lower()
    assert "FOTO" in replies[1].upper()
    assert request.public_id in replies[2] and "Gracias" in replies[2]
    assert request.locale == "es"
    for reply in replies:
        assert sms_segments.is_gsm7(reply), reply  # accents folded: no UCS-2 price

    staff = factories.gen_user("staff")
    workflow.transition(request, "closed", staff, note="Reparado.", resolution="fixed")
    db.session.commit()
    assert text.deliver_due(now=city_time(12)) == 1
    [closure] = sms.to(PHONE)
    assert "Resuelta" in closure.body and "NO ARREGLADO" in closure.body.upper()

    assert "abierta" in say(sms, client, f"{request.public_id} no está arreglado").lower()
    rows = list(db.session.scalars(select(TextMessage).order_by(TextMessage.id)))[:3]
    messages, segments = conversation_figures(rows)
    with capsys.disabled():
        print(f"\n[figures] Spanish pothole conversation: {messages} messages, {segments} segments")
        print("[figures] replies:", [(len(r), sms_segments.segments(r)) for r in replies], replies)
        print("[figures] closure:", len(closure.body), sms_segments.segments(closure.body))


def test_stop_then_a_closure_sends_nothing_until_start(client, sms):
    _replies, request = report_a_pothole(sms, client, "pothole", "101 East 11th Street")

    assert "START" in say(sms, client, "STOP")
    assert say(sms, client, "pothole on my road") is None  # a stopped number gets nothing
    assert "START" in say(sms, client, "HELP")  # ...but HELP, which carriers require answered
    staff = factories.gen_user("staff")
    workflow.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()

    assert text.deliver_due(now=city_time(12)) == 0
    assert sms.sent == []
    assert db.session.scalar(select(func.count(NotificationOutbox.id))) == 0
    stop_contacts = db.session.scalars(
        select(Contact).where(Contact.channel == "text", Contact.topic == "STOP")
    ).all()
    assert len(stop_contacts) == 1 and stop_contacts[0].caller_phone == PHONE

    assert "on again" in say(sms, client, "START")
    assert say(sms, client, "PARAR") is not None
    number = db.session.scalars(select(TextNumber)).one()
    assert number.stopped and number.locale == "es"
    assert "START" in say(sms, client, "ayuda")
    assert say(sms, client, "bache en mi calle") is None


def test_status_by_number_in_the_glossarys_words(client, sms):
    _replies, request = report_a_pothole(sms, client, "pothole", "101 East 11th Street")

    assert "Received" in say(sms, client, f"STATUS {request.public_id}")
    assert "Received" in say(sms, client, request.public_id, phone="+14235550999")
    assert "no request" in say(sms, client, "311-999999")
    assert "Only the number" in say(
        sms, client, f"{request.public_id} NOT FIXED", phone="+14235550999"
    )


def test_a_question_an_answer_resolves_is_self_service(client, sms):
    from webapp.domain.intake import answers

    answers.save(
        title="Trash pickup days",
        summary="Trash is picked up weekly on your zone's day.",
        body="Trash is picked up weekly.",
        keywords="trash, garbage, pickup",
    )
    db.session.commit()

    reply = say(sms, client, "When is trash pickup?")

    assert "picked up weekly" in reply and "/help/trash-pickup-days" in reply
    [contact] = db.session.scalars(select(Contact).where(Contact.kind == "self_service"))
    assert (contact.channel, contact.caller_phone) == ("text", PHONE)


def test_unsure_words_are_asked_again_and_a_menu_number_works(client, sms):
    assert "Reply with a number" in say(sms, client, "hello there")
    assert "where is it" in say(sms, client, "1")
    assert "outside" in say(sms, client, "geo:36.5,-86.9") or True
    assert "Got it" in say(sms, client, "https://maps.google.com/?q=35.0456,-85.3097")
    assert "SKIP" in say(sms, client, "what?")
    assert "Thank you" in say(sms, client, "SKIP")
    [request] = requests_made()
    assert request.service.service_code == "pothole" and request.photos == []


def test_an_idle_conversation_starts_over(client, sms):
    say(sms, client, "pothole")
    number = db.session.scalars(select(TextNumber)).one()
    number.last_message_at = utcnow() - timedelta(hours=2)
    db.session.commit()

    assert "Reply with a number" in say(sms, client, "101 East 11th Street")
    assert requests_made() == []


# --- forged, replayed and unknown webhooks -------------------------------------------------


def test_forged_and_foreign_webhooks_are_refused(client, sms):
    assert sms.webhook(client, PHONE, "pothole", signature="").status_code == 403
    assert sms.webhook(client, PHONE, "pothole", signature="bm90IGl0").status_code == 403
    assert sms.webhook(client, PHONE, "pothole", token="another-token").status_code == 403
    # signed for another address (a Host header cannot choose what is checked)
    assert sms.webhook(client, PHONE, "pothole", public_url="http://evil.test").status_code == 403
    assert sms.webhook(client, PHONE, "pothole", to="+15555550000").status_code == 403
    assert sms.webhook(client, PHONE, "pothole", account="AC" + "9" * 32).status_code == 403
    assert db.session.scalar(select(func.count(TextMessage.id))) == 0


def test_the_door_is_closed_when_the_provider_is_not_configured(make_app, sms):
    app = make_app()
    with app.app_context():
        assert sms.webhook(app.test_client(), PHONE, "pothole").status_code == 404


def test_a_replayed_webhook_answers_the_same_and_makes_nothing_twice(client, sms):
    photo = sms.add_media("p.jpg", jpeg_bytes())
    say(sms, client, "pothole")
    say(sms, client, "101 East 11th Street")
    first = say(sms, client, "", media=[(photo, "image/jpeg")], sid="SM" + "7" * 32)
    again = say(sms, client, "", media=[(photo, "image/jpeg")], sid="SM" + "7" * 32)

    assert first == again and "Thank you" in first
    assert len(requests_made()) == 1
    assert db.session.scalar(select(func.count(TextMessage.id))) == 3


# --- abuse ------------------------------------------------------------------------------


def test_a_thousand_messages_a_minute_get_one_polite_refusal_and_are_all_kept(client, sms):
    replies = [say(sms, client, f"pothole {n}") for n in range(1000)]

    refusals = [r for r in replies if r and "faster than we can read" in r]
    assert len(refusals) == 1
    assert replies[10:] == [refusals[0]] + [None] * 989
    assert db.session.scalar(select(func.count(TextMessage.id))) == 1000
    assert requests_made() == []


@pytest.mark.parametrize(
    "body",
    [
        "x" * 1600,
        "🕳️🚗💥 " * 50,
        "يوجد حفرة كبيرة في الشارع",
        "יש בור גדול בכביש",
        "pothole\x07 at \u202e101 East 11th\x1b",
    ],
)
def test_long_emoji_and_right_to_left_texts_get_a_polite_reply_and_are_kept(client, sms, body):
    reply = say(sms, client, body)

    assert reply and sms_segments.segments(reply) <= 3
    row = db.session.scalars(select(TextMessage)).one()
    assert row.body == "".join(ch for ch in body if ch >= " ").strip()


def test_a_nul_byte_is_refused_clearly_at_the_door(client, sms):
    assert sms.webhook(client, PHONE, "pothole\x00").status_code == 400
    assert db.session.scalar(select(func.count(TextMessage.id))) == 0


def test_an_mms_that_is_not_a_photo_or_is_a_bomb_is_refused_politely(client, sms):
    say(sms, client, "pothole")
    say(sms, client, "101 East 11th Street")
    note = sms.add_media("note.txt", b"just text", "text/plain")
    bomb = sms.add_media("bomb.png", make_samples.bomb(), "image/png")

    assert "not a photo" in say(sms, client, "", media=[(note, "text/plain")])
    refused = say(sms, client, "", media=[(bomb, "image/png")])
    assert "could not be used" in refused
    assert requests_made() == []
    assert "Thank you" in say(sms, client, "SKIP")
    assert len(requests_made()) == 1


# --- notifications: quiet hours, the daily cap, a crash ------------------------------------


def text_requests(count: int, phone: str = PHONE) -> list[ServiceRequest]:
    staff = factories.gen_user("staff")
    made = [
        factories.gen_request("graffiti", channel="text", contact_phone=phone) for _ in range(count)
    ]
    db.session.commit()
    for request in made:
        workflow.transition(request, "closed", staff, note="Cleaned", resolution="fixed")
    db.session.commit()
    return made


def test_quiet_hours_hold_a_text_until_morning(client, sms):
    text_requests(1)

    assert text.deliver_due(now=city_time(22)) == 0
    [row] = db.session.scalars(select(NotificationOutbox))
    assert row.state == "pending" and row.next_attempt_at == city_time(8, days=2)
    assert text.deliver_due(now=city_time(7, days=2)) == 0
    assert text.deliver_due(now=city_time(8, days=2)) == 1
    assert len(sms.sent) == 1


def test_the_daily_cap_holds_the_rest_until_the_next_morning(make_app, sms, geo):
    app = make_app(**sms.settings(), TEXT_DAILY_CAP=2)
    with app.app_context():
        factories.gen_city()
        text_requests(3)

        assert text.deliver_due(now=city_time(12)) == 2
        held = db.session.scalars(
            select(NotificationOutbox).where(NotificationOutbox.state == "pending")
        ).one()
        assert held.next_attempt_at == city_time(8, days=2)
        assert text.deliver_due(now=city_time(9, days=2)) == 1
        assert len(sms.sent) == 3


def test_a_provider_refusal_is_final_and_an_outage_is_retried(client, sms):
    text_requests(1)
    sms.mode = "down"
    assert text.deliver_due(now=city_time(12)) == 0
    [row] = db.session.scalars(select(NotificationOutbox))
    assert row.state == "pending" and "500" in row.last_error
    sms.mode = "up"
    assert text.deliver_due(now=city_time(13)) == 1


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs in the worker."""


def test_a_claimed_text_is_not_sent_twice_after_a_crash(client, sms, monkeypatch):
    text_requests(3)
    t0 = city_time(12)
    real = text.provider
    calls = []

    class DiesBeforeTheSecond:
        """The provider as the worker sees it, until the worker is killed."""

        def send(self, to, body, media=None):
            calls.append(to)
            if len(calls) == 2:
                raise WorkerKilled
            return real().send(to, body)

    monkeypatch.setattr(text, "provider", DiesBeforeTheSecond)
    with pytest.raises(WorkerKilled):
        text.deliver_due(now=t0)
    db.session.rollback()
    monkeypatch.setattr(text, "provider", real)

    assert len(sms.sent) == 1
    assert text.deliver_due(now=t0 + timedelta(seconds=30)) == 0  # the lease still holds
    assert text.deliver_due(now=t0 + timedelta(seconds=61)) == 2
    assert sorted(m.body for m in sms.sent) == sorted(set(m.body for m in sms.sent))
    assert len(sms.sent) == 3
    states = db.session.scalars(select(NotificationOutbox.state)).all()
    assert states == ["sent", "sent", "sent"]


# --- the record and the figures -----------------------------------------------------------


def test_the_desk_record_and_the_channel_figures_show_text(client, sms):
    from tests.conftest import AuthActions
    from webapp.domain.figures import channel_stats

    _replies, request = report_a_pothole(sms, client, "pothole", "101 East 11th Street")
    say(sms, client, f"STATUS {request.public_id}")

    figures = channel_stats.weekly(now=utcnow())
    assert figures.totals["text"] == 2 and "text" in figures.channels
    assert figures.self_service_share == 1.0

    AuthActions(client).login("staff")
    page = client.get("/staff/desk?q=(423) 555-0123").get_data(as_text=True)
    assert request.public_id in page and "a text message" in page
    assert "Status asked by text" in page and "The texts" in page
    stats = client.get("/stats").get_data(as_text=True)
    assert "Text message" in stats


def test_the_place_may_come_with_the_first_message_and_stop_beats_the_flood_limit(client, sms):
    assert "SKIP" in say(sms, client, "Big pothole at 101 East 11th Street")
    assert "Thank you" in say(sms, client, "skip")
    for n in range(12):
        say(sms, client, f"message {n}")
    assert "START" in say(sms, client, "STOP")
    assert db.session.scalars(select(TextNumber)).one().stopped


def test_a_short_answer_keeps_the_language_the_texter_chose(client, sms):
    assert "responda con un numero" in say(sms, client, "ESPAÑOL")
    assert "donde" in say(sms, client, "1").lower()
    assert db.session.scalars(select(TextNumber)).one().locale == "es"
