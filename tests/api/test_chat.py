"""Live chat through the test client: a resident and a call-taker, each with their own
cookies; the stream read as Server-Sent Events (it sends what it has and ends, since
the test settings hold a stream 0 s); refusals answered as clear 4xx."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from webapp.domain.figures import channel_stats
from webapp.domain.intake import answers
from webapp.models import Chat, ChatMessage, Contact, NotificationOutbox, ServiceRequest
from webapp.plumbing.extensions import db

JSON = {"Accept": "application/json"}
MONDAY_NOON_UTC = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 12:00 in New York
SUNDAY_NIGHT_UTC = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Sunday 22:00 in New York


def _events(response) -> list[dict]:
    """The ``line`` events of an SSE answer, as dicts (ids checked against the data)."""
    text = response.get_data(as_text=True)
    lines = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if fields.get("event") == "line":
            data = json.loads(fields["data"])
            assert int(fields["id"]) == data["id"]
            lines.append(data)
    return lines


def _start(client, body="Big pothole on Main Street", **extra):
    response = client.post("/chat", data={"body": body, **extra}, headers=JSON)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["key"]


@pytest.fixture
def desk(app):
    """A second browser: a signed-in call-taker."""
    staff_client = app.test_client()
    AuthActions(staff_client).login("staff")
    return staff_client


def test_a_chat_reaches_the_desk_is_answered_and_becomes_a_request(client, desk, city):
    key = _start(client, name="Ana Rivera", email="ana@example.org")
    chat = db.session.scalars(select(Chat)).one()
    desk_page = desk.get("/staff/desk").get_data(as_text=True)
    assert "Ana Rivera" in desk_page and f"/staff/chats/{chat.id}/take" in desk_page

    taken = desk.post(f"/staff/chats/{chat.id}/take")
    assert taken.status_code == 302 and "q=ana@example.org" in taken.headers["Location"]
    page = desk.get(taken.headers["Location"]).get_data(as_text=True)
    assert "Big pothole on Main Street" in page  # the chat and the prefilled description
    assert 'value="ana@example.org"' in page

    answered = desk.post(f"/staff/chats/{chat.id}/messages", data={"body": "Where?"}, headers=JSON)
    assert answered.status_code == 201
    client.post(f"/chat/{key}/messages", data={"body": "Outside 100 Main St"}, headers=JSON)

    made = desk.post(
        "/staff/desk/requests",
        data={
            "chat_id": str(chat.id),
            "service_code": "pothole",
            "attribute[size]": "large",
            "lat": "35.045",
            "long": "-85.31",
            "description": "Big pothole on Main Street",
            "caller_email": "ana@example.org",
            "client_uuid": "0b6f3c56-7f0e-4d0e-8f5e-0a4a3e0f1d2c",
        },
    )
    assert made.status_code == 302
    req = db.session.scalars(select(ServiceRequest)).one()
    assert req.channel == "chat" and req.department_id is not None  # routed like any report
    seen = _events(client.get(f"/chat/{key}/events"))
    assert [line["author"] for line in seen] == [
        "resident", "system", "system", "staff", "resident", "system",
    ]
    assert req.public_id in seen[-1]["body"] and seen[-1]["request"] == req.public_id
    assert req.public_id in client.get(f"/chat/{key}").get_data(as_text=True)

    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()  # one chat, one contact
    assert (contact.channel, contact.kind, contact.request_id) == ("chat", "request", req.id)
    assert "Outside 100 Main St" in contact.note and "Where?" in contact.note
    record = desk.get("/staff/desk?q=ana@example.org").get_data(as_text=True)
    assert req.public_id in record and "a live chat" in record


def test_the_stream_resumes_after_the_last_line_it_sent(client, desk, city):
    key = _start(client)
    first = _events(client.get(f"/chat/{key}/events"))
    client.post(f"/chat/{key}/messages", data={"body": "second"}, headers=JSON)
    resumed = _events(client.get(f"/chat/{key}/events", headers={"Last-Event-ID": str(first[-1]["id"])}))
    assert [line["body"] for line in resumed] == ["second"]
    by_param = _events(client.get(f"/chat/{key}/events?after={first[0]['id']}"))
    assert [line["body"] for line in by_param][-1] == "second" and len(by_param) == 2


def test_someone_elses_chat_is_not_found(app, client, desk, city):
    key = _start(client)
    stranger = app.test_client()
    assert stranger.get(f"/chat/{key}").status_code == 404
    assert stranger.get(f"/chat/{key}/events").status_code == 404
    assert stranger.post(f"/chat/{key}/messages", data={"body": "hi"}, headers=JSON).status_code == 404
    assert stranger.post(f"/chat/{key}/close", headers=JSON).status_code == 404
    assert stranger.get("/staff/chats/1/events").status_code in (302, 401)
    assert desk.post("/staff/chats/999/messages", data={"body": "x"}, headers=JSON).status_code == 404
    assert desk.get("/staff/desk?chat=999").status_code == 404


@pytest.mark.parametrize(
    "body, status",
    [("", 422), ("   \n ", 422), ("x" * 2001, 413), ("\x00\x07", 400), ("\x07\x08", 400)],
)
def test_bad_lines_are_refused_clearly(client, city, body, status):
    key = _start(client)
    response = client.post(f"/chat/{key}/messages", data={"body": body}, headers=JSON)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count(ChatMessage.id))) == 2  # nothing half-written


def test_markup_emoji_and_right_to_left_text_are_kept_as_text(client, desk, city):
    words = "<script>alert(1)</script> 🕳️🚗 שלום مرحبا"
    key = _start(client, body=words)
    page = client.get(f"/chat/{key}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 🕳️🚗 שלום مرحبا" in page
    chat = db.session.scalars(select(Chat)).one()
    desk_page = desk.get(f"/staff/desk?chat={chat.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in desk_page
    assert _events(client.get(f"/chat/{key}/events"))[0]["body"] == words


def test_a_flood_of_lines_is_held_per_chat(make_app, city):
    app = make_app(CHAT_MESSAGES_PER_MINUTE=3)
    with app.app_context():
        from tests import factories

        factories.gen_city()
        client = app.test_client()
        key = _start(client)  # the first line counts
        codes = [
            client.post(f"/chat/{key}/messages", data={"body": f"{n}"}, headers=JSON).status_code
            for n in range(5)
        ]
        assert codes == [201, 201, 429, 429, 429]


def test_an_ended_chat_takes_no_more_lines(client, desk, city):
    key = _start(client)
    assert client.post(f"/chat/{key}/close", headers=JSON).get_json()["status"] == "closed"
    refused = client.post(f"/chat/{key}/messages", data={"body": "hello?"}, headers=JSON)
    assert refused.status_code == 409
    chat = db.session.scalars(select(Chat)).one()
    assert desk.post(f"/staff/chats/{chat.id}/messages", data={"body": "hi"}, headers=JSON).status_code == 409
    made = desk.post("/staff/desk/requests", data={"chat_id": str(chat.id), "service_code": "pothole"})
    assert made.status_code == 302 and db.session.scalar(select(func.count(ServiceRequest.id))) == 0
    # The browser has every line: the stream says there is nothing more (EventSource stops).
    everything = _events(client.get(f"/chat/{key}/events"))
    assert client.get(f"/chat/{key}/events", headers={"Last-Event-ID": str(everything[-1]["id"])}).status_code == 204


def test_the_chat_channel_needs_a_chat(client, desk, city):
    made = desk.post(
        "/staff/desk/requests",
        data={"channel": "chat", "service_code": "pothole", "lat": "35.045", "long": "-85.31"},
    )
    assert made.status_code == 302
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == 0


def test_out_of_hours_a_chat_is_a_message_answered_by_email(make_app):
    app = make_app(CHAT_DESK_HOURS="08:00-18:00", CHAT_DESK_DAYS="mon,tue,wed,thu,fri",
                   CHAT_CLOCK=lambda: SUNDAY_NIGHT_UTC)
    with app.app_context():
        from tests import factories

        factories.gen_city()
        client = app.test_client()
        assert "The chat desk is closed now" in client.get("/chat").get_data(as_text=True)
        refused = client.post("/chat", data={"body": "Trash not picked up"}, headers=JSON)
        assert refused.status_code == 422 and refused.get_json()["error"]["details"]["field"] == "email"
        key = _start(client, body="Trash not picked up", email="Lee@Example.org")
        chat = db.session.scalars(select(Chat)).one()
        assert chat.status == "message"
        assert "answer by e-mail" in _events(client.get(f"/chat/{key}/events"))[-1]["body"]
        desk = app.test_client()
        AuthActions(desk).login("staff")
        assert "message, answer by e-mail" in desk.get("/staff/desk").get_data(as_text=True)
        desk.post(f"/staff/chats/{chat.id}/messages", data={"body": "Pickup is Tuesday."})
        mail = db.session.scalars(select(NotificationOutbox)).one()
        assert mail.email_to == "lee@example.org" and mail.payload["text"] == "Pickup is Tuesday."


def test_a_chat_counts_once_as_assisted_in_the_channel_figures(client, desk, city):
    answers.save(title="Bulky item pickup", body="Book a pickup.")
    db.session.commit()
    _start(client, body="How do I get rid of a sofa?")
    figures = channel_stats.weekly()
    assert figures.totals.get("chat") == 1 and "chat" in figures.channels
    assert figures.self_service_share == 0.0  # a call-taker's channel
    assert "Live chat" in client.get("/stats").get_data(as_text=True)


def test_streams_beyond_the_seats_send_what_is_new_and_end_so_the_browser_polls(make_app):
    app = make_app(CHAT_MAX_STREAMS=1, CHAT_STREAM_SECONDS=60.0, CHAT_POLL_SECONDS=0.05)
    with app.app_context():
        from tests import factories

        factories.gen_city()
        client = app.test_client()
        key = _start(client)
        held = client.get(f"/chat/{key}/events", buffered=False)
        chunks = iter(held.response)
        assert next(chunks).startswith(b"retry: 1000")  # this stream has the one seat
        busy = client.get(f"/chat/{key}/events")  # answered at once, not held
        assert busy.get_data(as_text=True).startswith("retry: 3000")
        assert [line["author"] for line in _events(busy)] == ["resident", "system"]
        held.close()  # the seat is given back when the stream ends
        again = client.get(f"/chat/{key}/events?after=999999", buffered=False)
        assert next(iter(again.response)).startswith(b"retry: 1000")
        again.close()


def test_a_chat_from_before_you_report_brings_its_category_to_the_desk(client, desk, city):
    page = client.get("/chat?from=report&service=pothole").get_data(as_text=True)
    assert 'name="started_from" value="report"' in page
    assert 'name="service_code" value="pothole"' in page
    _start(client, started_from="report", service_code="pothole", email="kim@example.org")
    chat = db.session.scalars(select(Chat)).one()
    assert (chat.started_from, chat.service_code) == ("report", "pothole")
    desk_page = desk.get(f"/staff/desk?chat={chat.id}").get_data(as_text=True)
    assert '<option value="pothole" selected>' in desk_page
    assert '<option value="chat">' in desk_page  # the request's channel is the chat
    assert "Live chat" in desk_page  # the chat is on the resident's record already
