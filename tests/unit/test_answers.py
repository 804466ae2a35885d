"""Knowledge answers: safe Markdown, and one search function over each database's own
full-text engine (SQLite FTS5, PostgreSQL tsvector + GIN)."""

import pytest
from sqlalchemy import text

from webapp.domain.errors import DomainError
from webapp.domain.intake import answers
from webapp.plumbing.extensions import db


def _answers(city):
    bulky = answers.save(
        title="Bulky item pickup",
        summary="Sofas, mattresses and appliances are picked up on request.",
        keywords="couch, furniture, fridge",
        body="Call 311 to book a **free** pickup of up to five large items a month.",
        topics=["Bulky pickup"],
    )
    trash = answers.save(
        title="Which day is my trash collected?",
        summary="Trash and recycling days by neighborhood.",
        keywords="garbage, rubbish, bins",
        body="Put your cart at the curb by 6 am on your collection day.",
        topics=["trash days"],
    )
    pothole = answers.save(
        title="How potholes are repaired",
        summary="Most potholes are patched within five working days.",
        body="Crews patch potholes in the order they are reported. Deep holes on busy "
        "streets go first.",
        service_ids=[city["pothole"].id],
    )
    draft = answers.save(
        title="Pothole draft", body="Not ready", published=False, service_ids=[city["pothole"].id]
    )
    db.session.commit()
    return bulky, trash, pothole, draft


def test_search_ranks_stems_and_prefixes(city):
    bulky, trash, pothole, _draft = _answers(city)
    assert [a.slug for a in answers.search("repairing potholes")] == [pothole.slug]
    assert answers.search("garbage")[0] == trash  # keyword
    assert answers.search("couc")[0] == bulky  # prefix
    assert answers.search("collected")[0] == trash  # stemmed: collect
    # All words first; with no answer holding all of them, any word.
    assert set(answers.search("couch garbage")) == {bulky, trash}
    assert answers.search("zzzz") == []


def test_search_filters_by_service_and_topic_and_hides_drafts(city):
    bulky, trash, pothole, draft = _answers(city)
    assert answers.search(service_code="pothole") == [pothole]
    assert answers.search("pothole", service_code="pothole") == [pothole]
    assert answers.search(topic="trash days") == [trash]
    assert draft not in answers.search("pothole")
    assert draft in answers.search("draft", include_drafts=True)


def test_search_index_follows_edits_and_deletes(city):
    bulky, *_ = _answers(city)
    answers.save(title="Large item collection", body="Book a truck.", answer=bulky, slug=bulky.slug)
    db.session.commit()
    assert answers.search("sofa") == []
    assert answers.search("truck") == [bulky]
    db.session.delete(bulky)
    db.session.commit()
    assert answers.search("truck") == []


@pytest.mark.parametrize(
    "query", ['"', "AND OR NOT", "*", "a:b", "(", "NEAR(x y)", "'; drop", "\\", "ü", "&|!"]
)
def test_odd_queries_never_break_the_search(city, query):
    _answers(city)
    assert isinstance(answers.search(query), list)


def test_the_database_has_its_own_index(city):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        found = db.session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_answers_search'")
        ).scalar()
        assert "gin" in found.lower()
    else:
        found = db.session.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'answers_fts'")
        ).scalar()
        assert "fts5" in found.lower()


def test_markdown_is_rendered_safely():
    html = answers.render(
        "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
        "[ok](https://city.example) <img src=x onerror=alert(1)>\n\n- one\n- **two**"
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert '<a href="https://city.example" rel="noopener noreferrer">ok</a>' in html
    assert "<li><strong>two</strong></li>" in html


def test_saving_refuses_empty_and_taken_slugs(city):
    answers.save(title="Permits", body="Apply online.")
    with pytest.raises(DomainError):
        answers.save(title="Permits", body="Again")
    with pytest.raises(DomainError):
        answers.save(title="", body="x")
    with pytest.raises(DomainError):
        answers.save(title="x", body="x", slug="Not A Slug")
    assert answers.slugify("Who do I call for a dead animal?") == "who-do-i-call-for-a-dead-animal"
