"""E-mail to residents through the same transactional outbox as push.

Writing: ``queue_email`` (any message: a sign-in link, an alert), ``queue_confirmation``
(the number and tracking link when a report is made, from any door: the app, the desk
when the caller asks, the auto-reply to an e-mailed report) and ``on_change`` (the
updates the resident chose, closure; it subscribes to every timeline entry) add
``NotificationOutbox`` rows with ``channel="email"`` inside the caller's transaction, so
a change that rolls back mails nobody. Request mail is composed when it is sent, so a
closure's after-photo (attached after the closing event, in the same transaction) is in
it, and the "fixed / not fixed" links are fresh.

Sending: ``deliver_due`` claims due e-mail rows (``claims.claim_due``: a one-minute
lease the worker's heartbeat renews), fixes each message's Message-ID on its row,
sends them over a few reused SMTP connections and commits each outcome as its answer
arrives. 2xx → ``sent``; 4xx, a dropped connection or an unreachable server → retried
with exponential backoff; 5xx → ``failed`` with the server's words kept, and a refused
recipient (5xx on RCPT) marks the address as bounced so it gets no more mail. Every row
stays as the delivery log staff see on the workbench.
"""

from __future__ import annotations

import contextlib
import queue
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.image import MIMEImage
from email.utils import make_msgid, parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives
from flask_mailman.backends.smtp import EmailBackend as SMTPBackend
from flask_mailman.message import sanitize_address
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from webapp.content_i18n import localized
from webapp.domain.errors import DomainError
from webapp.domain.input_rules import normalise_address
from webapp.domain.notifications import claims, mail_caps, mail_loops, notify
from webapp.domain.notifications.push import backoff_seconds
from webapp.domain.people import links
from webapp.i18n import reporter_locale
from webapp.models import (
    EmailAddress,
    EmailOptOut,
    Follow,
    NotificationOutbox,
    Photo,
    PhotoKind,
    RequestEvent,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db
from webapp.plumbing.extensions import mail as mailman
from webapp.plumbing.request_log import log_delivery

EMAIL = "email"
PUSH = "push"
PENDING, SENDING, SENT, DEAD, FAILED = "pending", "sending", "sent", "dead", "failed"
CONFIRMATION = "confirmation"
CLOSED = "closed"
CLAIM_BATCH = 100
SEND_CONNECTIONS = 4  # SMTP connections in parallel per worker, each reused for its share
MIN_PER_CONNECTION = 10  # a batch smaller than this goes over one connection
MAX_ATTEMPTS = 8
PHOTO_CID = "after-photo"
# The Message-ID domain of acknowledgements sent before they went through the outbox;
# replies to them are still recognised.
LEGACY_MESSAGE_ID_DOMAIN = "civic311.local"
# Links in e-mail when no public address is set (debug and tests only: production
# refuses to start without one).
FALLBACK_PUBLIC_URL = "http://localhost:5000"


# --- addresses ---------------------------------------------------------------------


def _key(address: str) -> str:
    return address.strip().lower()


def address_record(address: str, *, create: bool = False) -> EmailAddress | None:
    """What we know about ``address`` (created on demand)."""
    record = db.session.scalars(
        select(EmailAddress).where(EmailAddress.address == _key(address))
    ).first()
    if record is None and create:
        record = EmailAddress(address=_key(address))
        db.session.add(record)
        db.session.flush()
    return record


def blocked_reason(address: str, request_id: int | None = None) -> str | None:
    """Why ``address`` must not be mailed (bounced, unsubscribed), or None."""
    record = address_record(address)
    if record is not None and record.bounced_at is not None:
        return f"address bounced permanently: {record.bounce_reason or 'no reason given'}"
    if record is not None and record.unsubscribed_at is not None:
        return "the resident asked for no more e-mail"
    if request_id is not None:
        opted_out = db.session.scalar(
            select(EmailOptOut.id).where(
                EmailOptOut.address == _key(address), EmailOptOut.request_id == request_id
            )
        )
        if opted_out is not None:
            return "the resident unsubscribed from this request"
    return None


def mark_bounced(address: str, reason: str) -> None:
    """Record a permanent failure: the address gets no more mail; staff see why."""
    record = address_record(address, create=True)
    record.bounced_at = utcnow()
    record.bounce_reason = reason[:500]


def unsubscribe(address: str, request_id: int | None = None) -> None:
    """Stop mail about one request (or all mail when ``request_id`` is None). Doing it
    twice is fine."""
    if request_id is None:
        record = address_record(address, create=True)
        record.unsubscribed_at = record.unsubscribed_at or utcnow()
        return
    exists = db.session.scalar(
        select(EmailOptOut.id).where(
            EmailOptOut.address == _key(address), EmailOptOut.request_id == request_id
        )
    )
    if exists is None:
        db.session.add(EmailOptOut(address=_key(address), request_id=request_id))
        db.session.flush()


# --- queueing ----------------------------------------------------------------------


def base_url() -> str:
    """The public address links in e-mail start with (see ``webapp.jobs.mail``)."""
    provider = current_app.extensions.get("civic311_public_url")
    return provider() if provider else FALLBACK_PUBLIC_URL


def unsubscribe_url(
    address: str, *, request_id: int | None = None, alert_id: int | None = None
) -> str:
    """The one-click unsubscribe link for a message to ``address``."""
    data = {"e": _key(address)}
    if request_id is not None:
        data["r"] = request_id
    if alert_id is not None:
        data["a"] = alert_id
    return f"{base_url()}/e/unsubscribe/{links.make(links.UNSUBSCRIBE, **data)}"


def queue_email(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    kind: str = "message",
    request: ServiceRequest | None = None,
    event: RequestEvent | None = None,
    unsubscribe: str | None = None,
    headers: dict[str, str] | None = None,
) -> NotificationOutbox | None:
    """Queue one e-mail in the caller's transaction; the worker sends it after commit.

    ``unsubscribe`` is a one-click unsubscribe URL (adds ``List-Unsubscribe`` and
    ``List-Unsubscribe-Post``). Returns None when the address must not be mailed.
    """
    if blocked_reason(to, request.id if request else None) or not mail_caps.allows(to, kind):
        return None
    payload = {"subject": subject, "text": text, "html": html, "headers": dict(headers or {})}
    if unsubscribe:
        payload["unsubscribe"] = unsubscribe
    return _add_row(to, payload, kind=kind, request=request, event=event)


def _add_row(to, payload, *, kind, request=None, event=None) -> NotificationOutbox:
    row = NotificationOutbox(
        channel=EMAIL,
        email_to=to,
        kind=kind,
        request_id=request.id if request else None,
        event_id=event.id if event else None,
        payload=payload,
        urgency="normal",
        ttl_seconds=4 * 24 * 3600,
        state=PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def on_request_event(
    event: RequestEvent,
    kind: str,
    wants: bool,
    *,
    headers: dict[str, str] | None = None,
    replies: bool = False,
) -> NotificationOutbox | None:
    """Queue request mail for the address the resident gave, when they want this kind.

    ``kind`` is ``confirmation`` (on submit), ``closed`` or an optional update kind;
    ``wants`` says whether the resident chose it (closure and confirmation always).
    ``replies`` says the mail may invite a reply (the e-mail intake reads them).
    """
    request = event.request
    try:
        address = normalise_address(request.contact_email)
    except DomainError:  # stored before addresses were checked
        return None
    if not address or not wants or blocked_reason(address, request.id):
        return None
    if address.lower() in mail_loops.own_addresses(current_app.config):
        return None  # never mail ourselves: the intake would read it back (a mail loop)
    if not mail_caps.allows(address, kind):
        return None
    # Written in the reporter's language (their account's, their phone's, or the one
    # they reported in), never in the language of the staff member who caused it.
    locale = reporter_locale(request)
    payload = {"template": "request", "kind": kind, "base_url": base_url(), "locale": locale}
    if headers:
        payload["headers"] = dict(headers)
    if replies:
        payload["replies"] = True
    return _add_row(address, payload, kind=kind, request=request, event=event)


def on_change(entry: RequestEvent) -> NotificationOutbox | None:
    """Mail the address the resident gave about a new timeline entry, when followers
    hear of it and the resident chose this kind of update (a closure always). The
    e-mail channel hears of every entry through ``events.RequestChanged``."""
    kind = notify.audience_kind(entry)
    if kind is None:
        return None
    row = None
    if not _crm_mails_instead(entry):
        device = entry.request.device
        row = on_request_event(
            entry, kind, wants=notify.wants(device.notify_prefs if device else None, kind)
        )
    _mail_followers(entry, kind)
    return row


def _mail_followers(entry: RequestEvent, kind: str) -> None:
    """Followers who asked for the outcome by e-mail hear of it too, each at their own
    address and in their own language (a private service's news only to whoever made
    the request)."""
    request = entry.request
    follows = db.session.scalars(
        select(Follow).where(Follow.request_id == request.id, Follow.email.is_not(None))
    )
    for follow in follows:
        if not request.service.public and not notify.is_requesters(follow, request):
            continue
        if notify.wants(notify.follower_prefs(follow), kind):
            on_follower_event(entry, kind, follow.email, notify.follower_locale(follow))


def _crm_mails_instead(entry: RequestEvent) -> bool:
    """A change that came from the city's CRM is mailed by the CRM itself when the
    city says so (``FORWARD_CRM_NOTIFIES_RESIDENTS``): one set of e-mails, not two."""
    return bool(current_app.config.get("FORWARD_CRM_NOTIFIES_RESIDENTS")) and (
        (entry.data or {}).get("source") == "crm"
    )


def on_follower_event(event: RequestEvent, kind: str, address: str, locale: str | None):
    """Queue request mail for a follower who asked for the outcome by e-mail.

    Skipped when the address is the request's own contact address (that mail is queued
    already) or must not be mailed. The follower's mail carries no "Is it fixed?"
    links: only the person who reported it answers for the request.
    """
    request = event.request
    try:
        clean = normalise_address(address)
        own = normalise_address(request.contact_email)
    except DomainError:
        return None
    if not clean or (own and own.lower() == clean.lower()) or blocked_reason(clean, request.id):
        return None
    payload = {
        "template": "request",
        "kind": kind,
        "base_url": base_url(),
        "locale": locale,
        "follower": True,
    }
    return _add_row(clean, payload, kind=kind, request=request, event=event)


def message_id_domain() -> str:
    """The domain of our Message-IDs: the sender's own (``MAIL_DEFAULT_SENDER``)."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    return parseaddr(sender)[1].rpartition("@")[2].lower() or LEGACY_MESSAGE_ID_DOMAIN


def message_id_domains() -> set[str]:
    """Every domain our Message-IDs have used: the sender's own, and the fixed one of
    confirmations sent before they went through the outbox (residents still reply to
    those)."""
    return {message_id_domain(), LEGACY_MESSAGE_ID_DOMAIN}


def message_id_for(request: ServiceRequest) -> str:
    """A Message-ID that names the request (``<….311-000123@domain>``), so a reply to
    the confirmation can be matched to it by the e-mail intake."""
    return make_msgid(idstring=request.public_id, domain=message_id_domain())


def queue_confirmation(
    event: RequestEvent, *, in_reply_to: str | None = None, replies: bool = False
) -> NotificationOutbox | None:
    """Queue the confirmation (number and tracking link) of a new request to the address
    given with it, in the submitting transaction: the one confirmation every door sends.

    Its Message-ID names the request, so a reply threads onto it; ``in_reply_to`` (the
    resident's own message, for an e-mailed report) makes it an auto-reply to that;
    ``replies`` says the e-mail intake reads replies, so the message may invite one.
    """
    headers = {"Message-ID": message_id_for(event.request)}
    if in_reply_to:
        headers.update(
            {
                "In-Reply-To": in_reply_to,
                "References": in_reply_to,
                "Auto-Submitted": "auto-replied",
            }
        )
    return on_request_event(
        event,
        CONFIRMATION,
        wants=True,
        headers=headers,
        replies=replies,
    )


# --- composing ---------------------------------------------------------------------


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
            token_data = {"r": request.id, "e": _key(row.email_to), "c": closed_at}
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


# --- sending -----------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """What recording one claimed message's outcome needs, read before sending (every
    commit expires the ORM rows; reloading each would cost a query per message)."""

    id: int
    claim_token: str | None
    attempts: int
    email_to: str
    http_request_id: str | None = None  # the web request that queued it, for the logs


def _retry(message: Claimed, error: str, now: datetime) -> dict:
    """Back off and try again later, or give up after MAX_ATTEMPTS and say why."""
    if message.attempts >= MAX_ATTEMPTS:
        return {
            "state": FAILED,
            "last_error": f"gave up after {message.attempts} attempts: {error}"[:1000],
        }
    return {
        "state": PENDING,
        "last_error": error[:1000],
        "next_attempt_at": now + timedelta(seconds=backoff_seconds(message.attempts)),
    }


def _smtp_words(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


def _outcome(message: Claimed, error: Exception | None, now: datetime) -> dict:
    """What the mail server's answer about one message means for its row (a refused
    address is marked bounced on the way)."""
    if error is None:
        return {"state": SENT, "sent_at": now, "last_error": None}
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        words = _smtp_words(code, text)
        if 500 <= code < 600:
            mark_bounced(message.email_to, words)
            return {"state": FAILED, "last_error": f"mail server refused the address: {words}"}
        return _retry(message, f"mail server answered {words}", now)
    if isinstance(error, smtplib.SMTPResponseException):
        words = _smtp_words(error.smtp_code, error.smtp_error)
        if 500 <= error.smtp_code < 600:
            return {"state": FAILED, "last_error": f"mail server refused the message: {words}"}
        return _retry(message, f"mail server answered {words}", now)
    return _retry(message, f"mail server unreachable: {type(error).__name__}: {error}", now)


def record(message: Claimed, values: dict) -> bool:
    """Write one message's outcome and commit it at once, while the claim is still this
    worker's; returns whether it was written (False: the lease ran out and another
    worker took the message over)."""
    if values.get("last_error"):
        values = {**values, "last_error": values["last_error"][:1000]}
    written = db.session.execute(
        update(NotificationOutbox)
        .where(claims.still_mine(message.id, message.claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if written.rowcount != 1:
        return False
    log_delivery(EMAIL, message.id, values["state"], message.http_request_id)
    return True


def _broken(error: Exception) -> bool:
    """After these the SMTP connection cannot be reused."""
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421:
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _text in error.recipients.values())
    return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


Outgoing = tuple[str, list[str], bytes]
Answer = tuple[int, Exception | None]
PRELOADED_PHOTOS = "civic311_mail_photos"


def _blocked_reasons(rows: list[NotificationOutbox]) -> dict[tuple[str, int | None], str]:
    """Why each (address, request) of a batch must not be mailed, in two queries."""
    addresses = {row.email_to.lower() for row in rows}
    records = {
        record.address: record
        for record in db.session.scalars(
            select(EmailAddress).where(EmailAddress.address.in_(addresses))
        )
    }
    opted_out = {
        (address, request_id)
        for address, request_id in db.session.execute(
            select(EmailOptOut.address, EmailOptOut.request_id).where(
                EmailOptOut.address.in_(addresses)
            )
        )
    }
    reasons = {}
    for row in rows:
        key = (row.email_to.lower(), row.request_id)
        record = records.get(key[0])
        if record is not None and record.bounced_at is not None:
            reasons[key] = (
                f"address bounced permanently: {record.bounce_reason or 'no reason given'}"
            )
        elif record is not None and record.unsubscribed_at is not None:
            reasons[key] = "the resident asked for no more e-mail"
        elif key in opted_out:
            reasons[key] = "the resident unsubscribed from this request"
    return reasons


def _preload(rows: list[NotificationOutbox]) -> list:
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


def _raw(message: EmailMultiAlternatives) -> Outgoing:
    """Envelope sender, recipients and the bytes on the wire (built with the app context,
    so sending threads need none)."""
    encoding = message.encoding or current_app.extensions["mailman"].default_charset
    return (
        sanitize_address(message.from_email, encoding),
        [sanitize_address(a, encoding) for a in message.recipients()],
        message.message().as_bytes(linesep="\r\n"),
    )


def _open(connection: SMTPBackend) -> None:
    """Open the connection with Nagle's algorithm off: SMTP is a conversation of small
    writes, and on a reused connection Nagle plus delayed ACKs stall every message."""
    connection.open()
    sock = getattr(connection.connection, "sock", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reconnect(connection: SMTPBackend) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.close()
    with contextlib.suppress(OSError, smtplib.SMTPException):
        _open(connection)


def _send_share(
    connection: SMTPBackend,
    share: list[tuple[int, Outgoing]],
    report: Callable[[Answer], None],
    turn: threading.Event,
    stop: threading.Event,
) -> None:
    """Send a share of a batch over ONE connection (runs on a sending thread; no database
    work), reporting ``(index, error)`` for each message as soon as the server answered
    it (error None when the server took it).

    Each message waits for ``turn``, given back once the previous answer was recorded,
    so at most one message per connection is sent but not yet recorded (the ones a
    crash leaves in doubt). ``stop`` (the recording thread is gone) sends no more.
    """
    try:
        _open(connection)
    except (OSError, smtplib.SMTPException) as error:
        for index, _outgoing in share:
            report((index, error))
        return
    done = 0
    try:
        for index, (sender, recipients, data) in share:
            turn.wait()
            if stop.is_set():
                return
            turn.clear()
            error: Exception | None = None
            try:
                if connection.connection is None:
                    raise smtplib.SMTPServerDisconnected("the mail server closed the connection")
                connection.connection.sendmail(sender, recipients, data)
            except (OSError, smtplib.SMTPException) as failure:
                error = failure
            report((index, error))
            done += 1
            if error is not None and _broken(error):
                _reconnect(connection)
    except Exception as failure:  # never leave the recording thread waiting for an answer
        for index, _outgoing in share[done:]:
            report((index, failure))
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def _shares(count: int, connections: int) -> list[range]:
    """Split ``count`` messages into at most ``connections`` runs of at least
    ``MIN_PER_CONNECTION`` each (a small batch goes over one connection)."""
    wanted = max(1, min(connections, count // MIN_PER_CONNECTION))
    size = -(-count // wanted)
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def _answers(
    messages: list[EmailMultiAlternatives], connections: int | None
) -> Iterator[Answer]:
    """Send ``messages`` and yield each one's ``(index, error)`` as its answer arrives.

    Over SMTP: at most ``connections`` connections in parallel on the sending threads,
    each reused for its whole share; the answers come back through a queue, so this
    (database) thread records each one while the others are still being sent, and a
    connection sends its next message only once its last answer was recorded. The
    ``.eml`` files of the embedded default are written here, one by one.
    """
    backend = mailman.get_connection()
    if not isinstance(backend, SMTPBackend):
        for index, message in enumerate(messages):
            try:
                backend.send_messages([message])
                yield index, None
            except OSError as error:
                yield index, error
        return
    outgoing = [_raw(message) for message in messages]
    shares = _shares(len(outgoing), connections or SEND_CONNECTIONS)
    backends = [backend] + [mailman.get_connection() for _ in shares[1:]]
    answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
    stop = threading.Event()
    turns: dict[int, threading.Event] = {}
    pool = _sending_pool()
    for connection, share in zip(backends, shares, strict=True):
        turn = threading.Event()
        turn.set()
        for index in share:
            turns[index] = turn
        pool.submit(
            _send_share, connection, [(i, outgoing[i]) for i in share], answers.put, turn, stop
        )
    try:
        for _message in outgoing:
            index, error = answers.get()
            yield index, error
            turns[index].set()  # recorded: that connection may send its next message
    finally:
        stop.set()
        for turn in turns.values():
            turn.set()


def send_batch(
    rows: list[NotificationOutbox], now: datetime | None = None, connections: int | None = None
) -> int:
    """Send claimed rows, recording and committing each outcome as its answer arrives;
    returns how many were sent.

    Messages are composed first (with the database) and their Message-IDs committed
    before anything goes out, so a message resent after a crash is the same message.
    A connection the server dropped (421, disconnect) is reopened; when the server
    cannot be reached at all, every row is rescheduled with backoff. ``now`` dates the
    outcomes (the current time of each answer when omitted).
    """
    blocked = _blocked_reasons(rows)
    kept = _preload(rows)
    ready: list[tuple[Claimed, EmailMultiAlternatives]] = []
    stopped: list[tuple[Claimed, dict]] = []
    for row in rows:
        claimed = Claimed(row.id, row.claim_token, row.attempts, row.email_to, row.http_request_id)
        reason = blocked.get((row.email_to.lower(), row.request_id))
        if reason:
            stopped.append((claimed, {"state": DEAD, "last_error": f"not sent: {reason}"}))
            continue
        try:
            ready.append((claimed, compose(row)))
        except Exception as error:  # a broken template or a missing photo file
            current_app.logger.exception("could not compose e-mail %s", row.id)
            stopped.append((claimed, {"state": FAILED, "last_error": f"could not compose: {error}"}))
    db.session.info.pop(PRELOADED_PHOTOS, None)
    del kept
    db.session.commit()  # the Message-IDs and unsubscribe links, before any send
    for claimed, values in stopped:
        record(claimed, values)
    sent = 0
    messages = [message for _claimed, message in ready]
    with contextlib.closing(_answers(messages, connections)) as answers:
        for index, error in answers:
            claimed = ready[index][0]
            values = _outcome(claimed, error, now or utcnow())
            if record(claimed, values) and values["state"] == SENT:
                sent += 1
    return sent


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _sending_pool() -> ThreadPoolExecutor:
    """The shared threads that hold the parallel SMTP connections."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=SEND_CONNECTIONS, thread_name_prefix="civic311-mail"
            )
        return _POOL


def deliver_due(now: datetime | None = None, limit: int = CLAIM_BATCH) -> int:
    """Drain due e-mail rows batch by batch: claim (``claims.claim_due``), send (SMTP
    connections reused across each batch), record each outcome as it arrives; returns
    how many were sent. A crash loses nothing already answered; the messages then in
    flight are sent once more, with the same Message-ID, when their lease runs out.

    ``now`` fixes the clock for the whole run (what is due, the lease, the outcomes)."""
    sent = 0
    while True:
        with claims.abandoned_on_error():  # the database went away: due again a lease later
            ids = claims.claim_due(limit, now, channel=EMAIL)
            if not ids:
                return sent
            rows = db.session.scalars(
                select(NotificationOutbox)
                .where(NotificationOutbox.id.in_(ids), NotificationOutbox.state == SENDING)
                .order_by(NotificationOutbox.id)
            ).all()
            sent += send_batch(list(rows), now)


# --- the delivery log --------------------------------------------------------------


def delivery_log(request: ServiceRequest) -> list[NotificationOutbox]:
    """Every push and e-mail message about a request, oldest first (for staff)."""
    return list(
        db.session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.request_id == request.id)
            .order_by(NotificationOutbox.created_at, NotificationOutbox.id)
        )
    )


def bounced_address(request: ServiceRequest) -> EmailAddress | None:
    """The request's contact address when it bounced permanently (staff see why)."""
    if not request.contact_email:
        return None
    record = address_record(request.contact_email)
    return record if record is not None and record.bounced_at is not None else None
