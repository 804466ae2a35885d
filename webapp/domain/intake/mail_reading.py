"""Reading one e-mail to the 311 mailbox: its id, words, photos, the request it answers,
where it is about, and whether it is a question or automatic mail.

Nothing here writes: ``mail_handling`` decides what the message becomes from what is
read here. Photos pass the same pipeline as the app's; an HTML-only message keeps its
text without markup; a place comes from a photo's EXIF GPS, else from an address line
geocoded inside the city.
"""

from __future__ import annotations

import hashlib
import re

import nh3
from flask import current_app

from webapp.domain.errors import DomainError
from webapp.domain.geo import geocoding, places
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.lifecycle import timeline
from webapp.domain.notifications import mail_loops
from webapp.domain.notifications.email import mail_queue

MAX_MESSAGE_BYTES = 20 * 1024 * 1024

MAX_ATTACHMENTS_READ = 10

MAX_BODY = timeline.MAX_DESCRIPTION

# A Message-ID of one of our acknowledgements: ``make_msgid(idstring=<public id>, …)``
# on one of ``mail_queue.message_id_domains()`` (checked in ``referenced_request``).
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


def message_id_of(message, raw_size: int) -> str:
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


def words_of(message) -> tuple[str, list[str]]:
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


def photos_of(message) -> tuple[list[bytes], list[photo_pipeline.ProcessedPhoto], list[str]]:
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


def referenced_request(message) -> str | None:
    """The public id named by a reply to one of our acknowledgements, if any."""
    for reference in _references(message):
        found = OUR_REFERENCE.search(reference)
        if found and found.group(2).lower() in mail_queue.message_id_domains():
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


def place_of(text: str, processed) -> tuple[float, float, str | None] | None:
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


def is_question(subject: str, text: str, has_photos: bool) -> bool:
    """A question for staff: no photo, and a question mark in the subject, or one near
    the start of a text that opens like a question (English or Spanish)."""
    if has_photos:
        return False
    first = (text.strip().splitlines() or [""])[0]
    return subject.strip().endswith("?") or (
        "?" in text[:500] and bool(QUESTION_START.match(subject or first))
    )


def automatic_reason(message) -> str | None:
    """Why ``message`` (headers are enough) must never be answered, or None."""
    config = current_app.config
    return mail_loops.automatic_reason(
        message.headers,
        (message.from_ or "").strip().lower(),
        own=mail_loops.own_addresses(config),
        our_domains=mail_queue.message_id_domains(),
    )
