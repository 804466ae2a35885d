"""E-mail intake: the city's 311 mailbox, read over IMAP (imap-tools), becomes requests.

Each new message is handled once, by its Message-ID (a UNIQUE column; the request's
idempotency key is derived from it too, so a crash between the two commits and a
restart still make one request):

- automatic mail (an out-of-office reply, a bounce, a mailing list, our own mail; see
  ``mail_loops``) → recorded for admins and never answered, so no mail loop can start;
- a reply (In-Reply-To / References naming one of our acknowledgements) from the
  request's own e-mail address → a public comment on that request holding only the
  new words, with no address or tokenised link (``mail_quotes``);
- a report whose kind of problem (``mail_service_choice``, English or Spanish) and
  place can be told → a request (channel ``email``) in the staff queue, photos through
  the photo pipeline, the place from a photo's EXIF GPS or an address line geocoded
  inside the city, and an auto-reply with the number and tracking link in the mail's
  own language (``mail_language``), stored on the request for every later message;
  a polite question ("Can someone fix the pothole at …?") is such a report too;
- another question (a question mark, no photo) → a contact for staff to answer;
- anything else (no text, no place, odd or hostile content, a forged reply, the
  sender's flood limit) → a triage item with a plain note for staff. Never a crash:
  the message stays in the mailbox, marked as read.

Off unless ``IMAP_HOST`` is set. An IMAP outage is recorded (admins see the last
successful poll) and retried at the next poll.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import nh3
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.domain.errors import DomainError
from webapp.domain.geo import geocoding, places
from webapp.domain.intake import contacts, mail_language, mail_quotes, mail_service_choice
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.lifecycle import timeline
from webapp.domain.notifications import mail, mail_loops
from webapp.models import (
    Channel,
    ContactKind,
    EventKind,
    InboundMail,
    MailboxPoll,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db

MAX_MESSAGE_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS_READ = 10
MAX_BODY = timeline.MAX_DESCRIPTION
MESSAGE_ID_NAMESPACE = uuid.UUID("6f0c5c1e-0d0b-4a53-9a7e-2b8f3c5d9e11")
# A Message-ID of one of our acknowledgements: ``make_msgid(idstring=<public id>, …)``
# on one of ``mail.message_id_domains()`` (checked in ``_referenced_request``).
OUR_REFERENCE = re.compile(r"<?[^<>\s@]*?\.?(311-\d{6})[^<>\s@]*@([^<>\s@]+?)>?$")
ADDRESS_LINE = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?[A-Za-z0-9.' ]{2,40}?\s(?:street|st|avenue|ave|road|rd|"
    r"drive|dr|boulevard|blvd|lane|ln|way|place|pl|court|ct|pike|highway|hwy|parkway|pkwy)\b\.?",
    re.IGNORECASE,
)
QUESTION_START = re.compile(
    r"^\s*(?:¿|(how|what|when|where|which|who|why|can|could|do|does|is|are|will|may|"
    r"cómo|como|qué|cuándo|cuando|dónde|donde|cuál|cual|quién|quien|pueden|puede|"
    r"podrían|podría|se puede)\b)",
    re.I,
)
# How many "number … road" lines of one message are looked up at most.
MAX_ADDRESS_CANDIDATES = 5
# What an automatic message becomes: recorded, shown to admins, never answered.
IGNORED = "ignored"


@dataclass
class Outcome:
    """What became of one message."""

    message_id: str
    outcome: str  # request | comment | contact | triage | ignored | duplicate
    note: str = ""
    request: ServiceRequest | None = None


@dataclass
class PollResult:
    """One poll of the mailbox."""

    ok: bool
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None


def is_configured(config) -> bool:
    """E-mail intake runs only when an IMAP host is set."""
    return bool(config.get("IMAP_HOST"))


# --- reading one message -----------------------------------------------------------


def _message_id(message, raw_size: int) -> str:
    """The Message-ID, or a stable stand-in made from the message when it has none."""
    values = message.headers.get("message-id") or ()
    found = (values[0] if values else "").strip()
    if found:
        return found[:255]
    digest = hashlib.sha256(
        f"{message.from_}|{message.subject}|{message.date_str}|{raw_size}".encode(
            "utf-8", "replace"
        )
    ).hexdigest()
    return f"<{digest}@no-message-id>"


def _text(message) -> tuple[str, list[str]]:
    """The message's words and notes about how they were found."""
    notes: list[str] = []
    try:
        text = (message.text or "").strip()
    except Exception:  # noqa: BLE001 - any decoding failure is the same note
        text, notes = "", ["The text part could not be decoded."]
    if not text:
        try:
            html = message.html or ""
        except Exception:  # noqa: BLE001
            html = ""
        if html.strip():
            text = nh3.clean(html, tags=set()).strip()
            text = re.sub(r"\s+\n", "\n", re.sub(r"[ \t]+", " ", text))
            notes.append("The message had only HTML; its text was kept without formatting.")
    text = text.replace("\x00", "")
    if len(text) > MAX_BODY:
        notes.append(f"The text was cut to {MAX_BODY} characters.")
        text = text[:MAX_BODY]
    return text, notes


def _images(message) -> tuple[list[bytes], list[photo_pipeline.ProcessedPhoto], list[str]]:
    """Up to three photos that pass the photo pipeline, with notes on the rest."""
    notes: list[str] = []
    kept: list[bytes] = []
    processed: list[photo_pipeline.ProcessedPhoto] = []
    try:
        attachments = list(message.attachments)
    except Exception:  # noqa: BLE001
        return [], [], ["The attachments could not be read."]
    if len(attachments) > MAX_ATTACHMENTS_READ:
        notes.append(
            f"{len(attachments)} attachments: only the first {MAX_ATTACHMENTS_READ} were looked at."
        )
    refused = 0
    for attachment in attachments[:MAX_ATTACHMENTS_READ]:
        if len(kept) >= requests_domain.MAX_PHOTOS:
            notes.append(f"Only the first {requests_domain.MAX_PHOTOS} photos were kept.")
            break
        payload = attachment.payload or b""
        if not payload or photo_pipeline.sniff(payload) not in photo_pipeline.ACCEPTED_FORMATS:
            continue
        try:
            processed.append(photo_pipeline.process(payload))
        except DomainError as error:
            refused += 1
            notes.append(
                f"A photo ({attachment.filename or 'no name'}) was refused: {error.message}"
            )
            continue
        kept.append(payload)
    if refused and not kept:
        notes.append("No usable photo.")
    return kept, processed, notes


def _references(message) -> list[str]:
    headers = message.headers
    values = [*headers.get("in-reply-to", ()), *headers.get("references", ())]
    return [v for value in values for v in value.split()]


def _referenced_request(message) -> str | None:
    """The public id named by a reply to one of our acknowledgements, if any."""
    for reference in _references(message):
        found = OUR_REFERENCE.search(reference)
        if found and found.group(2).lower() in mail.message_id_domains():
            return found.group(1)
    return None


def address_candidates(text: str) -> list[str]:
    """Every "number … road" line of ``text``, in order, overlapping ones included:
    in "2 big potholes in the road at 1200 Market Street" both "2 … road" and
    "1200 Market Street" are candidates (the first match alone would hide the second)."""
    found: list[str] = []
    for number in re.finditer(r"\b\d{1,6}\b", text):
        match = ADDRESS_LINE.match(text, number.start())
        if match and match.group(0) not in found:
            found.append(match.group(0))
    return found


def _place(text: str, processed) -> tuple[float, float, str | None] | None:
    """Where: a photo's EXIF GPS, else the first address line that geocodes inside the
    city (each candidate in turn, at most ``MAX_ADDRESS_CANDIDATES`` look-ups)."""
    for item in processed:
        if item.gps:
            return item.gps[0], item.gps[1], None
    for candidate in address_candidates(text)[:MAX_ADDRESS_CANDIDATES]:
        for place in geocoding.search(candidate, limit=1) or ():
            try:
                places.check_inside_city(place.lat, place.long)
            except DomainError:
                continue
            return place.lat, place.long, place.label
    return None


def _is_question(subject: str, text: str, has_photos: bool) -> bool:
    """A question for staff: no photo, and a question mark in the subject, or one near
    the start of a text that opens like a question (English or Spanish)."""
    if has_photos:
        return False
    first = (text.strip().splitlines() or [""])[0]
    return subject.strip().endswith("?") or (
        "?" in text[:500] and bool(QUESTION_START.match(subject or first))
    )


def _flooded(sender: str, limit: int) -> bool:
    since = utcnow() - timedelta(days=1)
    count = db.session.scalar(
        select(func.count(InboundMail.id)).where(
            InboundMail.sender == sender,
            InboundMail.received_at >= since,
            InboundMail.outcome.in_(("request", "comment", "contact")),
        )
    )
    return (count or 0) >= limit


def _store(
    message_id: str, sender: str, subject: str, outcome: str, note: str, body: str, **links
) -> InboundMail:
    row = InboundMail(
        message_id=message_id,
        sender=sender[:254],
        subject=(subject or "")[:255],
        outcome=outcome,
        note=note or None,
        body=body,
        received_at=utcnow(),
        triaged=outcome not in ("triage", "contact"),
        **links,
    )
    db.session.add(row)
    return row


def _triage(message_id, sender, subject, body, notes: list[str]) -> Outcome:
    note = " ".join(notes)
    contact = contacts.record(
        channel=Channel.EMAIL,
        kind=ContactKind.TRIAGE,
        caller_email=sender if "@" in sender else None,
        topic=subject or None,
        note=note[:4000],
    )
    _store(message_id, sender, subject, "triage", note, body, contact_id=contact.id)
    db.session.commit()
    return Outcome(message_id, "triage", note)


def _ignore(message_id, sender, subject, reason: str) -> Outcome:
    """Record an automatic message (admins see it) without answering or reading it."""
    _store(message_id, sender or "(none)", subject, IGNORED, reason, "")
    db.session.commit()
    return Outcome(message_id, IGNORED, reason)


def automatic_reason(message) -> str | None:
    """Why ``message`` (headers are enough) must never be answered, or None."""
    config = current_app.config
    return mail_loops.automatic_reason(
        message.headers,
        (message.from_ or "").strip().lower(),
        own=mail_loops.own_addresses(config),
        our_domains=mail.message_id_domains(),
    )


def handle_message(
    message, *, raw_size: int | None = None, downloaded: bool = True, vocabulary=None
) -> Outcome:
    """Turn one e-mail (an imap-tools MailMessage) into a request, comment, contact,
    triage item or an ignored automatic message, exactly once per Message-ID. Commits.

    ``downloaded=False``: only the headers were fetched (the message is over the size
    limit); it is recorded for staff without being read."""
    raw_size = raw_size if raw_size is not None else (message.size or 0)
    message_id = _message_id(message, raw_size)
    if db.session.scalars(
        select(InboundMail.id).where(InboundMail.message_id == message_id)
    ).first():
        return Outcome(message_id, "duplicate")
    try:
        return _handle(message, message_id, raw_size, downloaded, vocabulary)
    except IntegrityError:
        db.session.rollback()
        return Outcome(message_id, "duplicate")
    except Exception as error:  # noqa: BLE001 - hostile mail must never stop the intake
        db.session.rollback()
        current_app.logger.exception("e-mail intake: %s could not be handled", message_id)
        sender = (getattr(message, "from_", "") or "").lower()
        return _triage(
            message_id,
            sender,
            "",
            "",
            [f"The message could not be read ({type(error).__name__}); see it in the mailbox."],
        )


def _handle(
    message, message_id: str, raw_size: int, downloaded: bool = True, vocabulary=None
) -> Outcome:
    sender = (message.from_ or "").strip().lower()
    subject = (message.subject or "").strip()
    notes: list[str] = []
    automatic = automatic_reason(message)
    if automatic:
        return _ignore(message_id, sender, subject, automatic)
    if raw_size > MAX_MESSAGE_BYTES or not downloaded:
        notes.append(
            f"The message is {raw_size // (1024 * 1024)} MB, over the "
            f"{MAX_MESSAGE_BYTES // (1024 * 1024)} MB limit: it was not downloaded; "
            "read it in the mailbox."
        )
        return _triage(message_id, sender, subject, "", notes)
    text, text_notes = _text(message)
    notes += text_notes
    if not sender or "@" not in sender:
        return _triage(message_id, sender, subject, text, ["The sender's address is missing."])

    referenced = _referenced_request(message)
    if referenced:
        target = db.session.scalars(
            select(ServiceRequest).where(ServiceRequest.public_id == referenced)
        ).first()
        if target is not None and (target.contact_email or "").lower() == sender:
            return _comment(target, message_id, sender, subject, text, notes)
        notes.append(
            f"It claims to answer {referenced}, but it does not come from that request's "
            "address: it was not added to that request."
        )
        return _triage(message_id, sender, subject, text, notes)

    limit = current_app.config.get("MAIL_INTAKE_PER_SENDER_PER_DAY", 10)
    if _flooded(sender, limit):
        notes.append(f"This sender has sent more than {limit} messages in a day (flood limit).")
        return _triage(message_id, sender, subject, text, notes)

    photo_bytes, processed, photo_notes = _images(message)
    notes += photo_notes
    # A forwarded or replied-to report carries older mail below it: only the sender's
    # own words tell what and where.
    own_words = mail_quotes.new_text(text) or text
    words = f"{subject}\n{own_words}".strip()
    if not words and not photo_bytes:
        notes.append("The message has no text and no photo.")
        return _triage(message_id, sender, subject, text, notes)
    choice = mail_service_choice.choose(own_words, subject, vocabulary)
    service = choice.service
    where = _place(words, processed)
    if _is_question(subject, own_words, bool(photo_bytes)) and (service is None or where is None):
        return _question(message, message_id, sender, subject, text)
    if service is None:
        leading = ", ".join(f"{code} {points:g}" for code, points in choice.scores[:3] if points)
        notes.append(
            "We could not tell what kind of problem it is"
            + (f" (closest: {leading})." if leading else ".")
        )
    if where is None:
        notes.append("No place found (no photo location and no address we could find).")
    if service is None or where is None:
        return _triage(message_id, sender, subject, text, notes)
    lat, long, address = where
    description = own_words or subject
    try:
        result = requests_domain.submit(
            requests_domain.Submission(
                service_code=service.service_code,
                lat=lat,
                long=long,
                address=address,
                description=f"{subject}\n\n{description}".strip() if subject else description,
                contact_email=sender,
                contact_name=(message.from_values.name if message.from_values else None) or None,
                channel=Channel.EMAIL,
                client_uuid=str(uuid.uuid5(MESSAGE_ID_NAMESPACE, message_id)),
                follow=False,
                photos=photo_bytes,
                in_reply_to=message_id,
                locale=mail_language.detect(words),
            )
        )
    except DomainError as error:
        db.session.rollback()
        notes.append(f"The report could not be made: {error.message}")
        return _triage(message_id, sender, subject, text, notes)
    request = result.request
    _store(message_id, sender, subject, "request", " ".join(notes), text, request_id=request.id)
    db.session.commit()
    # The auto-reply (number and tracking link) was queued with the request itself
    # (``mail.queue_confirmation``) in the request's language, and is sent, with
    # retries, by the mail worker.
    return Outcome(message_id, "request", " ".join(notes), request)


def _question(message, message_id, sender, subject, text) -> Outcome:
    contact = contacts.record(
        channel=Channel.EMAIL,
        kind=ContactKind.INFORMATION,
        caller_email=sender,
        caller_name=(message.from_values.name if message.from_values else None),
        topic=subject or text[:80],
        note=text,
    )
    _store(
        message_id,
        sender,
        subject,
        "contact",
        "A question for staff to answer.",
        text,
        contact_id=contact.id,
    )
    db.session.commit()
    return Outcome(message_id, "contact", "question")


def _comment(target, message_id, sender, subject, text, notes) -> Outcome:
    """The resident's reply on their request: only their new words are published, with
    any e-mail address or tokenised link hidden (the whole message stays for staff)."""
    body = mail_quotes.public_reply(text)
    if not body:
        notes.append("The reply had no new text.")
        return _triage(message_id, sender, subject, text, notes)
    timeline.record(
        target, EventKind.PUBLIC_NOTE, note=body[:MAX_BODY], public=True, data={"via": "email"}
    )
    contact = contacts.record(
        channel=Channel.EMAIL,
        kind=ContactKind.COMMENT,
        request=target,
        caller_email=sender,
        topic=subject or None,
    )
    _store(
        message_id,
        sender,
        subject,
        "comment",
        " ".join(notes),
        text,
        request_id=target.id,
        contact_id=contact.id,
    )
    db.session.commit()
    return Outcome(message_id, "comment", " ".join(notes), target)


# --- the mailbox -------------------------------------------------------------------


def _poll_state() -> MailboxPoll:
    state = db.session.get(MailboxPoll, 1)
    if state is None:
        state = MailboxPoll(id=1, failures=0)
        db.session.add(state)
    return state


def poll(config=None) -> PollResult:
    """Read every unread message once, handle it, then mark it read. Records the poll."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

    config = config or current_app.config
    if not is_configured(config):
        return PollResult(ok=True)
    state = _poll_state()
    state.last_attempt_at = utcnow()
    db.session.commit()
    result = PollResult(ok=True)
    box_class = MailBox if config.get("IMAP_SSL", True) else MailBoxUnencrypted
    try:
        with box_class(config["IMAP_HOST"], int(config.get("IMAP_PORT") or 993), timeout=30).login(
            config.get("IMAP_USER") or "",
            config.get("IMAP_PASSWORD") or "",
            initial_folder=config.get("IMAP_FOLDER") or "INBOX",
        ) as box:
            vocabulary = None  # the services' words, built once per poll when needed
            # Headers and the server's size first (IMAP RFC822.SIZE): automatic mail and
            # messages over the limit are decided without downloading their bodies.
            for head in box.fetch(AND(seen=False), mark_seen=False, bulk=False, headers_only=True):
                size = head.size_rfc822
                if size > MAX_MESSAGE_BYTES or _known(head, size) or automatic_reason(head):
                    outcome = handle_message(head, raw_size=size, downloaded=False)
                else:
                    whole = next(
                        iter(box.fetch(AND(uid=head.uid), mark_seen=False, bulk=False)), None
                    )
                    if vocabulary is None:
                        vocabulary = mail_service_choice.vocabulary()
                    outcome = (
                        handle_message(whole, raw_size=size, vocabulary=vocabulary)
                        if whole is not None
                        else handle_message(head, raw_size=size, downloaded=False)
                    )
                result.outcomes.append(outcome)
                box.flag([head.uid], MailMessageFlags.SEEN, True)
    except Exception as error:  # noqa: BLE001 - any outage: record it and retry next poll
        db.session.rollback()
        state = _poll_state()
        state.failures = (state.failures or 0) + 1
        state.last_error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()
        return PollResult(ok=False, outcomes=result.outcomes, error=state.last_error)
    state = _poll_state()
    state.last_success_at = utcnow()
    state.last_error = None
    state.failures = 0
    db.session.commit()
    return result


def _known(message, size: int) -> bool:
    """Whether this Message-ID was handled before (no need to download it again)."""
    message_id = _message_id(message, size)
    return (
        db.session.scalars(
            select(InboundMail.id).where(InboundMail.message_id == message_id)
        ).first()
        is not None
    )


def status() -> MailboxPoll | None:
    """The intake's last poll, for the admin page."""
    return db.session.get(MailboxPoll, 1)


def ignored_recently(limit: int = 50) -> list[InboundMail]:
    """Automatic messages recorded and not answered (out-of-office, bounces, lists, our
    own mail), newest first, for the admin page."""
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.outcome == IGNORED)
            .order_by(InboundMail.received_at.desc(), InboundMail.id.desc())
            .limit(limit)
        )
    )


def waiting_for_triage(limit: int = 100) -> list[InboundMail]:
    """Messages staff still have to look at, oldest first."""
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.triaged.is_(False))
            .order_by(InboundMail.received_at)
            .limit(limit)
        )
    )
