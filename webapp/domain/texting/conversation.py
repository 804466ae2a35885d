"""The steps of a text conversation: the service → the place → a photo or SKIP → the
request, with its number and link; and the one-message commands (a status, NOT FIXED).

A number's step and what it said so far (``TextNumber.step`` / ``draft``) are kept
between messages; ``inbound`` commits them with the message. Every function here
answers in the current language (``inbound`` chooses it) and returns a :class:`Result`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from webapp.content_i18n import localized
from webapp.domain.errors import DomainError
from webapp.domain.intake import answers, contacts, mail_reading, mail_service_choice
from webapp.domain.lifecycle import after_closure, submission
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle.timeline import MAX_DESCRIPTION
from webapp.domain.notifications import public_address
from webapp.domain.texting import location, replies
from webapp.models import (
    Channel,
    ContactKind,
    Service,
    ServiceRequest,
    TextNumber,
)
from webapp.plumbing.extensions import db
from webapp.plumbing.text_provider import provider

MENU_SIZE = 6
SERVICE, PLACE, PHOTO = "service", "place", "photo"
SID_NAMESPACE = uuid.UUID("0b7f3c2e-6a43-4f0e-9d0a-3e1f5c7a2b91")
QUESTION = re.compile(
    r"^\s*(?:¿|(how|what|when|where|which|who|why|can|could|do|does|is|are|will|may|"
    r"c[oó]mo|qu[eé]|cu[aá]ndo|d[oó]nde|cu[aá]l|qui[eé]n|pueden|puede)\b)",
    re.I,
)


@dataclass
class Result:
    """What a message led to: ``outcome`` (request, answer, status, reopened, asked…),
    the reply, and the request and contact kind it made or concerned."""

    outcome: str
    reply: str | None
    request: ServiceRequest | None = None
    contact_kind: str | None = None
    contact_extra: dict = field(default_factory=dict)


def menu() -> list[Service]:
    """The services offered by number: the first public ones, in a stable order."""
    return list(
        db.session.scalars(
            select(Service)
            .where(Service.active.is_(True), Service.public.is_(True))
            .order_by(Service.id)
            .limit(MENU_SIZE)
        )
    )


def reset(number: TextNumber) -> None:
    """Forget the conversation in progress (done, expired, or started over)."""
    number.step = None
    number.draft = {}


# --- one-message commands ------------------------------------------------------------


def _request(public_id: str) -> ServiceRequest | None:
    return db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.public_id == public_id)
    ).first()


def _same_phone(a: str | None, b: str | None) -> bool:
    first, second = contacts.normalise_phone(a), contacts.normalise_phone(b)
    return bool(first) and first == second


def status(number: TextNumber, public_id: str) -> Result:
    """A request's status in the glossary's words (a private service's only to the
    number that reported it)."""
    request = _request(public_id)
    if request is None or (
        not request.service.public and not _same_phone(request.contact_phone, number.phone)
    ):
        return Result("unknown", replies.unknown_request(public_id))
    return Result("status", replies.status(request), request, ContactKind.INFORMATION)


def not_fixed(number: TextNumber, public_id: str, text: str, now) -> Result:
    """The reporter's number says the request is not fixed: it reopens, within the
    window the after-closure rules allow."""
    request = _request(public_id)
    if request is None:
        return Result("unknown", replies.unknown_request(public_id))
    if not _same_phone(request.contact_phone, number.phone):
        return Result("refused", replies.not_yours(public_id))
    try:
        after_closure.reopen(
            request,
            text,
            proven=True,
            window_days=current_app.config.get("REOPEN_WINDOW_DAYS", 30),
            now=now,
        )
    except DomainError as error:
        return Result("refused", error.message, request)
    return Result("reopened", replies.reopened(request), request, ContactKind.COMMENT)


# --- the conversation ----------------------------------------------------------------


def _menu_choice(text: str, services: list[Service]) -> Service | None:
    word = text.strip().rstrip(".")
    if word.isdigit() and 1 <= int(word) <= len(services):
        return services[int(word) - 1]
    return None


def _answer_for(text: str):
    try:
        found = answers.search(text, limit=1)
    except DomainError:
        return None
    return found[0] if found else None


def start(number: TextNumber, text: str, media: list) -> Result:
    """The first message (or an answer to "what kind of problem?"): a menu number, or
    words that name a service; a question a knowledge answer resolves is answered."""
    services = menu()
    draft = dict(number.draft or {})
    chosen = _menu_choice(text, services)
    if chosen is None and text.strip():
        if QUESTION.match(text) or "?" in text:
            answer = _answer_for(text)
            if answer is not None:
                reset(number)
                link = f"{public_address.base_url()}/help/{answer.slug}"
                summary = localized(answer, "summary") or localized(answer, "title")
                return Result(
                    "answer",
                    replies.answer(summary, link),
                    contact_kind=ContactKind.SELF_SERVICE,
                    contact_extra={"answer": answer, "topic": localized(answer, "title")},
                )
        chosen = mail_service_choice.choose(text).service
        draft["description"] = (f"{draft.get('description', '')}\n{text}").strip()[:MAX_DESCRIPTION]
    draft["media"] = (draft.get("media", []) + [m[0] for m in media])[: submission.MAX_PHOTOS]
    if chosen is None:
        number.step, number.draft = SERVICE, draft
        if not text.strip() and not media:
            return Result("asked", replies.welcome(services))
        return Result("asked", replies.unsure(services))
    draft["service"] = chosen.service_code
    number.step, number.draft = PLACE, draft
    # "Pothole at 101 E 11th St": the place may already be in the first message (a
    # shared location, or a "number … road" line; nothing else is worth a look-up).
    named = location.shared_point(text) and text
    named = named or next(iter(mail_reading.address_candidates(text)), None)
    if named:
        found, _why = location.find(named)
        if found is not None:
            return _placed(number, found)
    return Result("asked", replies.ask_place(chosen))


def _placed(number: TextNumber, found: location.Found) -> Result:
    draft = dict(number.draft or {})
    draft.update(lat=found.lat, long=found.long, label=found.label)
    number.step, number.draft = PHOTO, draft
    return Result("asked", replies.ask_photo(found.label))


def place(number: TextNumber, text: str, media: list) -> Result:
    """The place: a shared location, an address or a landmark, inside the city."""
    draft = dict(number.draft or {})
    draft["media"] = (draft.get("media", []) + [m[0] for m in media])[: submission.MAX_PHOTOS]
    number.draft = draft
    if not text.strip():
        service = submission.active_service(draft.get("service", ""))
        if service is None:
            reset(number)
            return Result("asked", replies.welcome(menu()))
        return Result("asked", replies.ask_place(service))
    found, why = location.find(text)
    if found is None:
        return Result("asked", replies.place_problem(why))
    return _placed(number, found)


def _fetch_photos(urls: list[str]) -> tuple[list[bytes], str | None]:
    """The photos at ``urls`` that pass the photo pipeline, or the reply that refuses."""
    kept: list[bytes] = []
    sender = provider()
    for url in urls[: submission.MAX_PHOTOS]:
        media = sender.fetch_media(url)
        if media.data is None:
            return [], replies.photo_refused(media.error or "?")
        if photo_pipeline.sniff(media.data) not in photo_pipeline.ACCEPTED_FORMATS:
            return [], replies.not_a_photo()
        try:
            photo_pipeline.process(media.data)
        except DomainError as error:
            return [], replies.photo_refused(error.message.rstrip("."))
        kept.append(media.data)
    return kept, None


def photo(number: TextNumber, text: str, media: list, sid: str, command: str) -> Result:
    """A photo (MMS) or SKIP, then the request is made and its number given."""
    draft = dict(number.draft or {})
    urls = [m[0] for m in media]
    if not urls and command != "skip":
        return Result("asked", replies.photo_or_skip())
    photos: list[bytes] = []
    if urls:
        photos, refusal = _fetch_photos(urls)
        if refusal:
            return Result("asked", refusal)
    elif draft.get("media"):
        photos, refusal = _fetch_photos(draft["media"])
        if refusal:
            photos = []  # a photo sent earlier that does not pass: the report goes without
    result = submission.submit(
        submission.Submission(
            service_code=draft.get("service", ""),
            lat=draft.get("lat"),
            long=draft.get("long"),
            address=(draft.get("label") or None) and draft["label"][:255],
            description=draft.get("description", ""),
            contact_phone=number.phone,
            channel=Channel.TEXT,
            client_uuid=str(uuid.uuid5(SID_NAMESPACE, sid)),
            follow=False,
            photos=photos,
            email_confirmation=False,
            locale=number.locale,
        )
    )
    reset(number)
    return Result("request", replies.confirmation(result.request), result.request)


def respond(number: TextNumber, text: str, media: list, sid: str, command, now) -> Result:
    """The answer to one message of the conversation (no carrier keyword: see ``inbound``)."""
    if command.kind == "status":
        return status(number, command.public_id)
    if command.kind == "not_fixed":
        return not_fixed(number, command.public_id, text, now)
    if command.kind == "menu":
        reset(number)
        return Result("asked", replies.welcome(menu()))
    if number.step == PHOTO:
        return photo(number, text, media, sid, command.kind)
    if number.step == PLACE:
        return place(number, text, media)
    return start(number, text, media)
