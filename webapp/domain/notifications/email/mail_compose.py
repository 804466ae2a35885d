"""Composing an e-mail from its outbox row when it is sent, in the reader's language.

Request mail is composed at sending time, so a closure's after-photo (attached after the
closing event, in the same transaction) is in it and the "fixed / not fixed" links are
fresh. The photo goes inline (no remote images, so nothing tracks whether mail was
opened); the Message-ID is chosen once and kept on the row, so a resend after a crash is
the same message. A batch's requests, events and photos are loaded in a few queries.
"""

from __future__ import annotations

from email.mime.image import MIMEImage
from email.utils import make_msgid

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.content_i18n import localized
from webapp.domain.notifications import notify
from webapp.domain.notifications.email.addresses import address_key
from webapp.domain.notifications.email.mail_queue import (
    CLOSED,
    CONFIRMATION,
    base_url,
    message_id_domain,
    unsubscribe_url,
)
from webapp.domain.people import links
from webapp.models import NotificationOutbox, Photo, PhotoKind, RequestEvent, ServiceRequest
from webapp.plumbing.extensions import db

PHOTO_CID = "after-photo"


def _render(name: str, **context) -> str:
    return current_app.jinja_env.get_template(name).render(**context)


def _locale(locale: str | None) -> str:
    supported = current_app.config.get("SUPPORTED_LOCALES", ())
    return locale if locale in supported else current_app.config["BABEL_DEFAULT_LOCALE"]


def _subject(request: ServiceRequest, event: RequestEvent, kind: str) -> str:
    if kind == CONFIRMATION:
        return _(
            "We received your report %(id)s (%(service)s)",
            id=request.public_id,
            service=localized(request.service, "name"),
        )
    return notify.build_payload(event, kind, "")["notification"]["title"]


def _closure_photo(event: RequestEvent) -> Photo | None:
    preloaded = db.session.info.get(PRELOADED_PHOTOS)
    if preloaded is not None and event.id in preloaded:
        return preloaded[event.id]
    return db.session.scalars(
        select(Photo)
        .where(Photo.event_id == event.id, Photo.kind == PhotoKind.CLOSURE)
        .order_by(Photo.id)
    ).first()


def _request_message(row: NotificationOutbox) -> tuple[str, str, str, list[MIMEImage]]:
    """Subject, text, HTML and inline images of a request mail, composed now."""
    from webapp.domain.lifecycle.storage import photo_store

    payload = row.payload
    event = db.session.get(RequestEvent, row.event_id)
    request = db.session.get(ServiceRequest, row.request_id)
    kind = payload["kind"]
    root = payload.get("base_url") or base_url()
    status_url = f"{root}/requests/{request.public_id}"
    context = {
        "req": request,
        "event": event,
        "kind": kind,
        "status_url": status_url,
        "city": current_app.config.get("CITY_NAME"),
        "brand": current_app.config.get("CITY_BRAND") if current_app.config.get("CITY_PACK")
        else None,
        "photo_cid": None,
        "fixed_url": None,
        "not_fixed_url": None,
        "window_days": int(current_app.config.get("REOPEN_WINDOW_DAYS", 30)),
        "unsubscribe_url": payload.get("unsubscribe"),
        "replies": bool(payload.get("replies")),
        "follower": bool(payload.get("follower")),
    }
    images: list[MIMEImage] = []
    with force_locale(_locale(payload.get("locale"))):
        context["resolution"] = notify.resolution_label(request.resolution)
        subject = _subject(request, event, kind)
        if kind == CLOSED and event.to_status == "closed":
            photo = _closure_photo(event)
            if photo is not None:
                image = MIMEImage(photo_store().open(photo.display_key), "jpeg")
                image.add_header("Content-ID", f"<{PHOTO_CID}>")
                image.add_header("Content-Disposition", "inline", filename="after.jpg")
                images.append(image)
                context["photo_cid"] = PHOTO_CID
        if kind == CLOSED and event.to_status == "closed" and not context["follower"]:
            closed_at = int(request.closed_at.timestamp()) if request.closed_at else 0
            token_data = {"r": request.id, "e": address_key(row.email_to), "c": closed_at}
            context["fixed_url"] = f"{root}/e/fixed/{links.make(links.FIXED, **token_data)}"
            context["not_fixed_url"] = (
                f"{root}/e/not-fixed/{links.make(links.NOT_FIXED, **token_data)}"
            )
        context["subject"] = subject
        text = _render("email/request.txt", **context)
        html = _render("email/request.html", **context)
    return subject, text, html, images


def compose(row: NotificationOutbox) -> EmailMultiAlternatives:
    """The message for an outbox row: text and HTML parts, unsubscribe headers, and the
    after-photo inline (no remote images, so nothing tracks whether mail was opened)."""
    payload = dict(row.payload)
    if payload.get("template") == "request" and not payload.get("unsubscribe"):
        payload["unsubscribe"] = unsubscribe_url(row.email_to, request_id=row.request_id)
        row.payload = payload
    images: list[MIMEImage] = []
    if payload.get("template") == "request":
        subject, text, html, images = _request_message(row)
    else:
        subject, text, html = payload["subject"], payload["text"], payload.get("html")
    headers = {"Auto-Submitted": "auto-generated", **payload.get("headers", {})}
    # Chosen once and kept on the row: a resend after a crash carries the same
    # Message-ID, so the resident's mail program shows it once.
    row.message_id = (
        headers.get("Message-ID") or row.message_id or make_msgid(domain=message_id_domain())
    )
    headers["Message-ID"] = row.message_id
    if payload.get("unsubscribe"):
        headers["List-Unsubscribe"] = f"<{payload['unsubscribe']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=current_app.config.get("MAIL_DEFAULT_SENDER"),
        to=[row.email_to],
        headers=headers,
    )
    if html:
        message.attach_alternative(html, "text/html")
    if images:
        message.mixed_subtype = "related"
        for image in images:
            message.attach(image)
    return message


PRELOADED_PHOTOS = "civic311_mail_photos"


def preload(rows: list[NotificationOutbox]) -> list:
    """Load a batch's requests, events and closure photos in a few queries (composing
    then finds them in the session instead of asking once per message). Returns the
    loaded objects: the caller keeps them while composing, since the session holds
    unchanged objects only weakly."""
    request_ids = {row.request_id for row in rows if row.request_id}
    event_ids = {row.event_id for row in rows if row.event_id}
    loaded: list = []
    if request_ids:
        loaded += db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id.in_(request_ids))
            .options(selectinload(ServiceRequest.service), selectinload(ServiceRequest.requester))
        ).all()
    if event_ids:
        loaded += db.session.scalars(
            select(RequestEvent).where(RequestEvent.id.in_(event_ids))
        ).all()
        photos: dict[int, Photo | None] = dict.fromkeys(event_ids)
        for photo in db.session.scalars(
            select(Photo)
            .where(Photo.event_id.in_(event_ids), Photo.kind == PhotoKind.CLOSURE)
            .order_by(Photo.id.desc())
        ):
            photos[photo.event_id] = photo
        db.session.info[PRELOADED_PHOTOS] = photos
    return loaded
