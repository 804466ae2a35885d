"""E-mail intake: one message of the city's 311 mailbox becomes a request, a comment,
a contact, a triage item or an ignored automatic message, exactly once.

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
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.domain.errors import DomainError
from webapp.domain.intake import mail_language, mail_quotes, mail_service_choice
from webapp.domain.intake.mail_outcomes import (
    Outcome,
    record_comment,
    record_ignored,
    record_question,
    record_triage,
    store_mail,
)
from webapp.domain.intake.mail_reading import (
    MAX_MESSAGE_BYTES,
    automatic_reason,
    is_question,
    message_id_of,
    photos_of,
    place_of,
    referenced_request,
    words_of,
)
from webapp.domain.lifecycle import submission as requests_domain
from webapp.models import Channel, InboundMail, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

MESSAGE_ID_NAMESPACE = uuid.UUID("6f0c5c1e-0d0b-4a53-9a7e-2b8f3c5d9e11")


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


def handle_message(
    message, *, raw_size: int | None = None, downloaded: bool = True, vocabulary=None
) -> Outcome:
    """Turn one e-mail (an imap-tools MailMessage) into a request, comment, contact,
    triage item or an ignored automatic message, exactly once per Message-ID. Commits.

    ``downloaded=False``: only the headers were fetched (the message is over the size
    limit); it is recorded for staff without being read."""
    raw_size = raw_size if raw_size is not None else (message.size or 0)
    message_id = message_id_of(message, raw_size)
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
        return record_triage(
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
        return record_ignored(message_id, sender, subject, automatic)
    if raw_size > MAX_MESSAGE_BYTES or not downloaded:
        notes.append(
            f"The message is {raw_size // (1024 * 1024)} MB, over the "
            f"{MAX_MESSAGE_BYTES // (1024 * 1024)} MB limit: it was not downloaded; "
            "read it in the mailbox."
        )
        return record_triage(message_id, sender, subject, "", notes)
    text, text_notes = words_of(message)
    notes += text_notes
    if not sender or "@" not in sender:
        return record_triage(message_id, sender, subject, text, ["The sender's address is missing."])

    referenced = referenced_request(message)
    if referenced:
        target = db.session.scalars(
            select(ServiceRequest).where(ServiceRequest.public_id == referenced)
        ).first()
        if target is not None and (target.contact_email or "").lower() == sender:
            return record_comment(target, message_id, sender, subject, text, notes)
        notes.append(
            f"It claims to answer {referenced}, but it does not come from that request's "
            "address: it was not added to that request."
        )
        return record_triage(message_id, sender, subject, text, notes)

    limit = current_app.config.get("MAIL_INTAKE_PER_SENDER_PER_DAY", 10)
    if _flooded(sender, limit):
        notes.append(f"This sender has sent more than {limit} messages in a day (flood limit).")
        return record_triage(message_id, sender, subject, text, notes)

    photo_bytes, processed, photo_notes = photos_of(message)
    notes += photo_notes
    # A forwarded or replied-to report carries older mail below it: only the sender's
    # own words tell what and where.
    own_words = mail_quotes.new_text(text) or text
    words = f"{subject}\n{own_words}".strip()
    if not words and not photo_bytes:
        notes.append("The message has no text and no photo.")
        return record_triage(message_id, sender, subject, text, notes)
    choice = mail_service_choice.choose(own_words, subject, vocabulary)
    service = choice.service
    where = place_of(words, processed)
    if is_question(subject, own_words, bool(photo_bytes)) and (service is None or where is None):
        return record_question(message, message_id, sender, subject, text)
    if service is None:
        leading = ", ".join(f"{code} {points:g}" for code, points in choice.scores[:3] if points)
        notes.append(
            "We could not tell what kind of problem it is"
            + (f" (closest: {leading})." if leading else ".")
        )
    if where is None:
        notes.append("No place found (no photo location and no address we could find).")
    if service is None or where is None:
        return record_triage(message_id, sender, subject, text, notes)
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
        return record_triage(message_id, sender, subject, text, notes)
    request = result.request
    store_mail(message_id, sender, subject, "request", " ".join(notes), text, request_id=request.id)
    db.session.commit()
    # The auto-reply (number and tracking link) was queued with the request itself
    # (``mail_queue.queue_confirmation``) in the request's language, and is sent, with
    # retries, by the mail worker.
    return Outcome(message_id, "request", " ".join(notes), request)
