"""The answers API and the public /help pages."""

from sqlalchemy import select

from webapp.domain.intake import answers
from webapp.models import Contact
from webapp.plumbing.extensions import db

WRITE = {"X-Requested-With": "civic311"}


def _seed(city):
    answers.save(
        title="Bulky item pickup",
        summary="Sofas and fridges.",
        body="Call 311 to book a **free** pickup.\n\n<script>x()</script>",
        keywords="couch",
        topics=["bulky pickup"],
    )
    answers.save(
        title="How potholes are repaired",
        body="Crews patch holes in order.",
        service_ids=[city["pothole"].id],
    )
    answers.save(title="Secret draft", body="pothole plans", published=False)
    db.session.commit()


def test_search_by_words_and_by_service(client, city):
    _seed(city)
    body = client.get("/api/v1/answers?q=couch").get_json()
    assert [a["slug"] for a in body["data"]] == ["bulky-item-pickup"]
    assert body["meta"]["count"] == 1
    found = client.get("/api/v1/answers?service_code=pothole").get_json()["data"]
    assert [a["slug"] for a in found] == ["how-potholes-are-repaired"]
    assert found[0]["service_codes"] == ["pothole"]
    everything = client.get("/api/v1/answers").get_json()["data"]
    assert {a["slug"] for a in everything} == {"bulky-item-pickup", "how-potholes-are-repaired"}


def test_one_answer_is_rendered_safely_and_drafts_are_hidden(client, city):
    _seed(city)
    one = client.get("/api/v1/answers/bulky-item-pickup").get_json()["data"]
    assert "<strong>free</strong>" in one["html"] and "<script" not in one["html"]
    assert one["url"] == "/help/bulky-item-pickup"
    missing = client.get("/api/v1/answers/secret-draft")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_this_answered_my_question_counts_a_self_service_contact(client, city):
    _seed(city)
    client.get("/help")  # the page offers this browser a device, which it keeps
    response = client.post(
        "/api/v1/answers/how-potholes-are-repaired/resolved",
        json={"service_code": "pothole", "channel": "pwa"},
        headers=WRITE,
    )
    assert response.status_code == 201
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.kind, contact.channel, contact.service_id) == (
        "self_service",
        "pwa",
        city["pothole"].id,
    )
    assert contact.answer.slug == "how-potholes-are-repaired"
    refused = client.post("/api/v1/answers/how-potholes-are-repaired/resolved", json={})
    assert refused.status_code == 400


def test_help_pages_search_and_show_an_answer(client, city):
    _seed(city)
    page = client.get("/help?q=sofas").get_data(as_text=True)
    assert "Bulky item pickup" in page and "How potholes" not in page
    topic = client.get("/help?topic=bulky+pickup").get_data(as_text=True)
    assert "Bulky item pickup" in topic
    answer = client.get("/help/bulky-item-pickup").get_data(as_text=True)
    assert "<strong>free</strong>" in answer and "<script>x()" not in answer
    assert client.get("/help/secret-draft").status_code == 404
