"""The acknowledgement e-mail: a request's number and its tracking link.

Sent to a caller who asked for a confirmation at the desk, and as the auto-reply to
an e-mailed report. One small function so the city's notification outbox can take
it over; until then it sends directly through Flask-Mailman (SMTP settings
``MAIL_SERVER`` / ``MAIL_PORT``; nothing is sent when ``MAIL_SERVER`` is unset).
Its Message-ID is returned, so a resident's reply can be threaded onto the request.
"""

from __future__ import annotations

from email.utils import make_msgid

from flask import current_app
from flask_babel import gettext as _
from flask_mailman import EmailMessage

from webapp.models import ServiceRequest

MESSAGE_ID_DOMAIN = "civic311.local"


def tracking_url(request: ServiceRequest) -> str:
    """The public page where the resident follows the request."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/requests/{request.public_id}"


def message_id_for(request: ServiceRequest) -> str:
    """A Message-ID that names the request, so replies can be matched to it."""
    return make_msgid(idstring=request.public_id, domain=MESSAGE_ID_DOMAIN)


def send_acknowledgement(
    request: ServiceRequest, to_address: str, *, in_reply_to: str | None = None
) -> str | None:
    """E-mail the number and tracking link; returns the Message-ID, or None when mail is off."""
    if not current_app.config.get("MAIL_SERVER") or not to_address:
        return None
    city = current_app.config["CITY_NAME"]
    message_id = message_id_for(request)
    subject = _("Your %(city)s 311 request %(number)s", city=city, number=request.public_id)
    body = _(
        "Thank you. We received your request about %(service)s.\n\n"
        "Your request number is %(number)s.\n"
        "Follow it here: %(url)s\n\n"
        "You can reply to this e-mail to add to your request.\n\n%(city)s 311",
        service=request.service.name.lower(),
        number=request.public_id,
        url=tracking_url(request),
        city=city,
    )
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-replied"}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    EmailMessage(subject=subject, body=body, to=[to_address], headers=headers).send()
    return message_id
