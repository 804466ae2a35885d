"""Thin views for the public answers; search and rendering live in ``domain.answers``."""

from __future__ import annotations

from flask import render_template, request

from webapp.content_i18n import topic_names
from webapp.domain.intake import answers as answers_domain
from webapp.help.blueprint import bp
from webapp.plumbing.access import public


@bp.get("", endpoint="index")
@public
def index():
    """Search the answers (works without JavaScript); offline, the page searches its copy."""
    query = request.args.get("q", "").strip()[:200]
    topic = request.args.get("topic") or None
    found = answers_domain.search(query, topic=topic)
    names = topic_names(answers_domain.all_topics())
    return render_template(
        "help/index.html",
        query=query,
        topic=topic,
        answers=found,
        # In the reader's language and in that language's order.
        topics=sorted(names.items(), key=lambda item: item[1].casefold()),
    )


@bp.get("/<slug>", endpoint="answer_page")
@public
def answer_page(slug: str):
    """One answer, rendered safely from its Markdown."""
    answer = answers_domain.get(slug)
    return render_template("help/answer.html", answer=answer, shown=answers_domain.view(answer))
