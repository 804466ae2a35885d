"""Knowledge answers: plain-language articles residents and call-takers read.

The body is Markdown, rendered with markdown-it-py and then cleaned by nh3, so an
answer can never carry script or event handlers whoever wrote it. ``search`` is the
one place answers are searched: SQLite's FTS5 (porter stemming, bm25 ranking) or
PostgreSQL's tsvector with a GIN index (``ts_rank``), both created by the migrations.
The index holds each answer's English and its Spanish (``translations["es"]``), so a
resident finds an answer in either language; a Spanish query is stemmed as Spanish on
PostgreSQL. Answers are shown in the reader's language (:func:`view`), falling back to
English field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from sqlalchemy import select, text

from webapp.content_i18n import localized
from webapp.domain.errors import DomainError, NotFound
from webapp.models import Answer, AnswerTopic, Service, utcnow
from webapp.plumbing.extensions import db

MAX_BODY = 20_000
MAX_QUERY_TERMS = 8
SEARCH_LIMIT = 20
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TERM_PATTERN = re.compile(r"\w+", re.UNICODE)
# Objects of the search index that live outside the models (see the migration).
SEARCH_INDEX_TABLE_PREFIX = "answers_fts"
SEARCH_INDEX_COLUMN = "search_vector"
SEARCH_INDEX_NAME = "ix_answers_search"

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "code",
    "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render(body: str) -> str:
    """Safe HTML from an answer's Markdown: no raw HTML, no scripts, links marked noopener."""
    html = _markdown.render(body or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


def is_search_index_object(name: str | None, type_: str, parent_names: dict) -> bool:
    """True for the full-text objects the migration made outside the models.

    Alembic's comparison of models and database skips them (``include_name``).
    """
    if type_ == "table" and name and name.startswith(SEARCH_INDEX_TABLE_PREFIX):
        return True
    if type_ == "column" and name == SEARCH_INDEX_COLUMN:
        return parent_names.get("table_name") == "answers"
    return type_ == "index" and name == SEARCH_INDEX_NAME


def include_name(name, type_, parent_names) -> bool:
    """Alembic ``include_name`` hook: everything except the search index's own objects."""
    return not is_search_index_object(name, type_, parent_names)


def _terms(query: str) -> list[str]:
    return [t.lower() for t in TERM_PATTERN.findall(query or "")][:MAX_QUERY_TERMS]


def _ranked_ids(terms: list[str], limit: int, *, any_term: bool) -> list[int]:
    """Ids of matching answers, best first, from the database's own full-text engine."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        joiner = " | " if any_term else " & "
        tsquery = joiner.join(f"{t}:*" for t in terms)
        rows = db.session.execute(
            text(
                "SELECT id FROM answers, "
                "(SELECT to_tsquery('english', :q) || to_tsquery('spanish', :q) AS query) "
                "AS asked WHERE search_vector @@ asked.query "
                "ORDER BY ts_rank(search_vector, asked.query) DESC, id LIMIT :limit"
            ),
            {"q": tsquery, "limit": limit},
        )
        return [row[0] for row in rows]
    joiner = " OR " if any_term else " "
    match = joiner.join(f'"{t}"*' for t in terms)
    rows = db.session.execute(
        text(
            "SELECT rowid FROM answers_fts WHERE answers_fts MATCH :q "
            "ORDER BY bm25(answers_fts, 10.0, 5.0, 5.0, 1.0, 10.0, 5.0, 1.0), rowid LIMIT :limit"
        ),
        {"q": match, "limit": limit},
    )
    return [row[0] for row in rows]


def search(
    query: str | None = None,
    *,
    service_code: str | None = None,
    topic: str | None = None,
    limit: int = SEARCH_LIMIT,
    include_drafts: bool = False,
) -> list[Answer]:
    """Published answers matching ``query`` (all words first, else any word), best first.

    With no query, the answers of the service or topic (or all of them) by title.
    """
    terms = _terms(query or "")
    filters = []
    if not include_drafts:
        filters.append(Answer.published.is_(True))
    if service_code:
        filters.append(Answer.services.any(Service.service_code == service_code))
    if topic:
        filters.append(Answer.topic_rows.any(AnswerTopic.topic == topic))
    if not terms:
        return list(db.session.scalars(select(Answer).where(*filters).order_by(Answer.title)))
    window = max(limit * 5, 50)
    ids = _ranked_ids(terms, window, any_term=False) or _ranked_ids(terms, window, any_term=True)
    if not ids:
        return []
    found = {
        a.id: a for a in db.session.scalars(select(Answer).where(Answer.id.in_(ids), *filters))
    }
    return [found[i] for i in ids if i in found][:limit]


def get(slug: str, *, include_drafts: bool = False) -> Answer:
    """The answer with that slug, or NotFound."""
    answer = db.session.scalars(select(Answer).where(Answer.slug == slug)).first()
    if answer is None or (not answer.published and not include_drafts):
        raise NotFound(_("We could not find that answer."))
    return answer


def for_service(service: Service) -> list[Answer]:
    """The published answers shown before a service's form."""
    return search(service_code=service.service_code)


def slugify(title: str) -> str:
    """A URL slug from a title: lower case words joined by hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", title.lower().replace("'", ""))) or "answer"


def save(
    *,
    title: str,
    body: str,
    summary: str = "",
    keywords: str = "",
    slug: str | None = None,
    service_ids: list[int] | None = None,
    topics: list[str] | None = None,
    published: bool = True,
    answer: Answer | None = None,
) -> Answer:
    """Create or change an answer; refuse an empty title or body and a taken slug."""
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise DomainError(_("Please give the answer a title."), field="title")
    if not body:
        raise DomainError(_("Please write the answer."), field="body")
    if len(body) > MAX_BODY:
        raise DomainError(_("The answer is too long."), field="body")
    slug = (slug or "").strip().lower() or slugify(title)[:120]
    if not SLUG_PATTERN.match(slug):
        raise DomainError(
            _("The address may use only lower-case letters, digits and hyphens."), field="slug"
        )
    taken = db.session.scalars(select(Answer).where(Answer.slug == slug)).first()
    if taken is not None and taken is not answer:
        raise DomainError(_("Another answer already uses that address."), field="slug")
    if answer is None:
        answer = Answer(created_at=utcnow())
        db.session.add(answer)
    answer.title = title[:200]
    answer.slug = slug
    answer.summary = (summary or "").strip()[:300]
    answer.keywords = (keywords or "").strip()
    answer.body = body
    answer.published = bool(published)
    answer.updated_at = utcnow()
    if service_ids is not None:
        answer.services = list(
            db.session.scalars(select(Service).where(Service.id.in_(service_ids)))
        )
    if topics is not None:
        wanted = sorted({t.strip().lower() for t in topics if t and t.strip()})
        answer.topic_rows = [AnswerTopic(topic=t[:80]) for t in wanted]
    db.session.flush()
    return answer


def all_topics() -> list[str]:
    """Every topic in use, alphabetically."""
    return list(
        db.session.scalars(select(AnswerTopic.topic).distinct().order_by(AnswerTopic.topic))
    )


@dataclass
class AnswerView:
    """An answer ready to show or serialise."""

    slug: str
    title: str
    summary: str
    body: str
    html: str
    service_codes: list[str]
    topics: list[str]


def view(answer: Answer, locale: str | None = None) -> AnswerView:
    """The answer in ``locale`` (default: the reader's), its body rendered safely.

    Each field falls back to English on its own, so a half-translated answer reads whole.
    """
    return AnswerView(
        slug=answer.slug,
        title=localized(answer, "title", locale),
        summary=localized(answer, "summary", locale),
        body=localized(answer, "body", locale),
        html=render(localized(answer, "body", locale)),
        service_codes=[s.service_code for s in answer.services],
        topics=answer.topics,
    )
