"""What one e-mail became, recorded once by its Message-ID: a request, a comment on the
sender's own request, a question for staff, a triage item, or ignored automatic mail.

Each outcome stores an ``InboundMail`` row (the UNIQUE Message-ID that makes handling
happen once) and, where staff must act, a contact; a reply's public comment holds only
the new words, with addresses and tokenised links hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.domain.intake import contacts, mail_quotes
from webapp.domain.intake.mail_reading import MAX_BODY
from webapp.domain.lifecycle import timeline
from webapp.models import Channel, ContactKind, EventKind, InboundMail, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

# What an automatic message becomes: recorded, shown to admins, never answered.
IGNORED = "ignored"


@dataclass
class Outcome:
    """What became of one message."""

    message_id: str
    outcome: str  # request | comment | contact | triage | ignored | duplicate
    note: str = ""
    request: ServiceRequest | None = None


def store_mail(
    message_id: str, sender: str, subject: str, outcome: str, note: str, body: str, **links
) -> InboundMail:
    """The ``InboundMail`` row that says what one message became (its Message-ID is UNIQUE)."""
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


def record_triage(message_id, sender, subject, body, notes: list[str]) -> Outcome:
    """A triage item for staff, with the plain notes of why; commits."""
    note = " ".join(notes)
    contact = contacts.record(
        channel=Channel.EMAIL,
        kind=ContactKind.TRIAGE,
        caller_email=sender if "@" in sender else None,
        topic=subject or None,
        note=note[:4000],
    )
    store_mail(message_id, sender, subject, "triage", note, body, contact_id=contact.id)
    db.session.commit()
    return Outcome(message_id, "triage", note)


def record_ignored(message_id, sender, subject, reason: str) -> Outcome:
    """Record an automatic message (admins see it) without answering or reading it."""
    store_mail(message_id, sender or "(none)", subject, IGNORED, reason, "")
    db.session.commit()
    return Outcome(message_id, IGNORED, reason)


def record_question(message, message_id, sender, subject, text) -> Outcome:
    """A question for staff to answer, kept as a contact; commits."""
    contact = contacts.record(
        channel=Channel.EMAIL,
        kind=ContactKind.INFORMATION,
        caller_email=sender,
        caller_name=(message.from_values.name if message.from_values else None),
        topic=subject or text[:80],
        note=text,
    )
    store_mail(
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


def record_comment(target, message_id, sender, subject, text, notes) -> Outcome:
    """The resident's reply on their request: only their new words are published, with
    any e-mail address or tokenised link hidden (the whole message stays for staff)."""
    body = mail_quotes.public_reply(text)
    if not body:
        notes.append("The reply had no new text.")
        return record_triage(message_id, sender, subject, text, notes)
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
    store_mail(
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
