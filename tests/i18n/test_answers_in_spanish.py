"""Knowledge answers in Spanish: read in the reader's language on /help and through the
API, found by their Spanish words on both databases, and edited beside the English."""

from __future__ import annotations

from webapp.content_i18n import set_translation
from webapp.domain.intake import answers
from webapp.models import Answer
from webapp.plumbing.extensions import db

ES = {"Accept-Language": "es-MX,es;q=0.9"}


def _pothole_answer(city) -> Answer:
    answer = answers.save(
        title="How potholes are repaired",
        summary="Most potholes are patched within five working days.",
        keywords="hole, road",
        body="Crews patch potholes **in order**.",
        service_ids=[city["pothole"].id],
    )
    set_translation(
        answer,
        "es",
        {
            "title": "Cómo se reparan los baches",
            "summary": "",
            "keywords": "hueco, calle",
            "body": "Las cuadrillas tapan los baches **en orden**.",
        },
    )
    answers.save(title="Trash days", body="Once a week.", topics=["trash days"])
    db.session.commit()
    return answer


def test_spanish_words_find_the_answer(city):
    answer = _pothole_answer(city)
    assert answers.search("baches") == [answer]  # title, stemmed
    assert answers.search("bache") == [answer]
    assert answers.search("cuadrillas tapan") == [answer]  # body, every word
    assert answers.search("hueco") == [answer]  # Spanish keyword
    assert answers.search("potholes") == [answer]  # English still found


def test_search_follows_spanish_edits(city):
    answer = _pothole_answer(city)
    set_translation(answer, "es", {"body": "Una brigada rellena cada hoyo."})
    db.session.commit()
    assert answers.search("cuadrillas") == []
    assert answers.search("brigada") == [answer]
    set_translation(answer, "es", {"title": "", "keywords": "", "body": ""})
    db.session.commit()
    assert answer.translations is None
    assert answers.search("brigada") == []
    db.session.delete(answer)
    db.session.commit()
    assert answers.search("potholes") == []


def test_help_pages_read_in_spanish_with_english_where_missing(client, city):
    _pothole_answer(city)
    listing = client.get("/help?q=baches", headers=ES).get_data(as_text=True)
    assert "Cómo se reparan los baches" in listing
    assert "Most potholes are patched" in listing  # no Spanish summary: the English one
    page = client.get("/help/how-potholes-are-repaired", headers=ES).get_data(as_text=True)
    assert "<h1>Cómo se reparan los baches</h1>" in page
    assert "tapan los baches <strong>en orden</strong>" in page
    english = client.get("/help/how-potholes-are-repaired").get_data(as_text=True)
    assert "<h1>How potholes are repaired</h1>" in english and "baches" not in english


def test_answers_api_speaks_the_callers_language(client, city):
    _pothole_answer(city)
    listed = client.get("/api/v1/answers?service_code=pothole", headers=ES)
    assert "Accept-Language" in listed.headers.get("Vary", "")
    shown = listed.get_json()["data"][0]
    assert shown["title"] == "Cómo se reparan los baches"
    assert shown["summary"] == "Most potholes are patched within five working days."
    assert shown["body"] == "Las cuadrillas tapan los baches **en orden**."
    assert "<strong>en orden</strong>" in shown["html"]
    # The saved offline copy names its language in the address.
    asked = client.get("/api/v1/answers?locale=es").get_json()["data"]
    assert "Cómo se reparan los baches" in {a["title"] for a in asked}
    one = client.get("/api/v1/answers/how-potholes-are-repaired", headers=ES)
    assert one.get_json()["data"]["title"] == "Cómo se reparan los baches"
    assert "Accept-Language" in one.headers.get("Vary", "")
    english = client.get("/api/v1/answers/how-potholes-are-repaired").get_json()["data"]
    assert english["title"] == "How potholes are repaired"


def test_report_flow_and_help_fetch_the_answers_in_the_page_language(client, city):
    _pothole_answer(city)
    home = client.get("/", headers=ES).get_data(as_text=True)
    assert 'data-answers-url="/api/v1/answers?locale=es"' in home
    help_page = client.get("/help", headers=ES).get_data(as_text=True)
    assert 'data-answers-url="/api/v1/answers?locale=es"' in help_page


def test_admin_writes_an_answers_spanish_beside_the_english(client, auth, city):
    answer = _pothole_answer(city)
    auth.login("admin")
    editor = client.get(f"/admin/answers/{answer.id}").get_data(as_text=True)
    assert f"/admin/translations?locale=es&amp;item=answer-{answer.id}" in editor
    page = client.get("/admin/translations?locale=es").get_data(as_text=True)
    assert f'id="answer-{answer.id}"' in page
    item = client.get(f"/admin/translations?locale=es&item=answer-{answer.id}")
    assert f'name="t-answer-{answer.id}-body"' in item.get_data(as_text=True)
    response = client.post(
        "/admin/translations?locale=es",
        data={
            f"t-answer-{answer.id}-title": "Reparación de baches",
            f"t-answer-{answer.id}-summary": "Casi todos se tapan en cinco días hábiles.",
            f"t-answer-{answer.id}-keywords": "hueco",
            f"t-answer-{answer.id}-body": "Primero los más **hondos**.",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert answers.search("hondos") == [db.session.get(Answer, answer.id)]
    page = client.get("/help/how-potholes-are-repaired", headers=ES).get_data(as_text=True)
    assert "Reparación de baches" in page and "<strong>hondos</strong>" in page
