"""Knowledge answers through the API: search, read one, and "this answered my question".

Reads are public and kept by the service worker for offline use. Saying an answer
resolved the question records a self-service contact (no personal data).
"""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import ANSWER_SLUG_PATH, AnswerSearchQuery, ResolvedBody
from webapp.api.responses import AnswerList, AnswerOne, ResolvedAnswer
from webapp.api.schema import inputs, operation
from webapp.domain.intake import answers as answers_domain
from webapp.domain.intake import contacts
from webapp.models import Answer, Channel, Service
from webapp.plumbing import limits
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db, limiter
from webapp.plumbing.sessions import kept_device

MAX_RESULTS = 200


def answer_json(answer: Answer) -> dict:
    """The public shape of an answer in the caller's language (English where it has
    none), with its body as Markdown and as safe HTML."""
    shown = answers_domain.view(answer)
    return {
        "slug": shown.slug,
        "title": shown.title,
        "summary": shown.summary,
        "body": shown.body,
        "html": shown.html,
        "service_codes": shown.service_codes,
        "topics": shown.topics,
        "url": url_for("help.answer_page", slug=shown.slug),
        "updated_at": answer.updated_at.isoformat(timespec="seconds"),
    }


@bp.get("/answers")
@public
@operation(tags=["answers"], query=AnswerSearchQuery, returns=AnswerList)
def list_answers():
    """Answers matching ``q`` (full text), of a ``service_code`` or ``topic``; all without."""
    args = inputs().query
    found = answers_domain.search(
        args.q or "",
        service_code=args.service_code,
        topic=args.topic,
        limit=MAX_RESULTS,
    )
    response = envelope([answer_json(a) for a in found], meta={"count": len(found)})
    response.vary.add("Accept-Language")
    return response


@bp.get("/answers/<slug>")
@public
@operation(tags=["answers"], path=ANSWER_SLUG_PATH, returns=AnswerOne)
def get_answer(slug: str):
    """One published answer, in the caller's language (Accept-Language)."""
    response = envelope(answer_json(answers_domain.get(slug)))
    response.vary.add("Accept-Language")
    return response


@bp.post("/answers/<slug>/resolved")
@public
@limiter.limit(limits.follow_limit, key_func=limits.resolved_address_key)
@operation(
    tags=["answers"],
    json=ResolvedBody,
    form=ResolvedBody,
    path=ANSWER_SLUG_PATH,
    success=(201,),
    returns=ResolvedAnswer,
    body_required=False,
)
def answer_resolved(slug: str):
    """This answered my question: counts a contact resolved by self-service (body optional)."""
    answer = answers_domain.get(slug)
    checked = inputs()
    data = checked.json or checked.form or ResolvedBody()
    service = None
    if data.service_code:
        service = db.session.scalars(
            db.select(Service).where(Service.service_code == data.service_code)
        ).first()
    account = current_user if current_user.is_authenticated else None
    channel = Channel.PWA if data.channel == Channel.PWA else Channel.WEB
    contact = contacts.record_self_service(
        answer,
        channel=channel,
        user=account,
        device=None if account else kept_device(),
        service=service,
    )
    db.session.commit()
    return envelope(
        {"recorded": contact is not None, "answer": answer.slug, "channel": channel}, status=201
    )
