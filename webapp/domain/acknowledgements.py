"""The acknowledgement e-mail: a request's number and its tracking link.

Sent to a caller who asked for a confirmation at the desk, and as the auto-reply to
an e-mailed report. It is the same confirmation every report with an e-mail address
gets (``mail.queue_confirmation``), queued in the notification outbox and sent (with
retries) by the mail worker, so one request never gets two confirmations. Its
Message-ID names the request (``make_msgid(idstring=<public id>, domain=<the
sender's>)``), so a resident's reply can be threaded onto the request by the e-mail
intake (``mail_intake.OUR_REFERENCE``).
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.domain import mail
from webapp.extensions import db
from webapp.models import EventKind, NotificationOutbox, RequestEvent, ServiceRequest

# Replies to acknowledgements sent before they went through the outbox name this domain.
MESSAGE_ID_DOMAIN = mail.LEGACY_MESSAGE_ID_DOMAIN


def tracking_url(request: ServiceRequest) -> str:
    """The public page where the resident follows the request."""
    return f"{mail.base_url()}/requests/{request.public_id}"


def message_id_domains() -> set[str]:
    """The domains our Message-IDs use (now the sender's; formerly a fixed one)."""
    return {mail.message_id_domain(), MESSAGE_ID_DOMAIN}


def message_id_for(request: ServiceRequest) -> str:
    """A Message-ID that names the request, so replies can be matched to it."""
    return mail.message_id_for(request)


def send_acknowledgement(
    request: ServiceRequest, to_address: str, *, in_reply_to: str | None = None
) -> str | None:
    """Queue the confirmation of ``request`` to ``to_address`` (the address given with
    it) unless one was already queued; returns its Message-ID, or None when nothing is
    sent (no address, or the address must not be mailed). The caller commits.

    Requests normally get their confirmation when they are made (``requests.submit``);
    this is for a confirmation asked for afterwards.
    """
    if not to_address or not request.contact_email:
        return None
    if to_address.strip().lower() != request.contact_email.strip().lower():
        return None  # the confirmation goes only to the address the request was made with
    existing = db.session.scalars(
        select(NotificationOutbox).where(
            NotificationOutbox.request_id == request.id,
            NotificationOutbox.channel == mail.EMAIL,
            NotificationOutbox.kind == mail.CONFIRMATION,
        )
    ).first()
    if existing is not None:
        return (existing.payload.get("headers") or {}).get("Message-ID")
    created = db.session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id == request.id, RequestEvent.kind == EventKind.CREATED)
        .order_by(RequestEvent.id)
    ).first()
    if created is None:
        return None
    row = mail.queue_confirmation(created, in_reply_to=in_reply_to)
    return row.payload["headers"]["Message-ID"] if row is not None else None
