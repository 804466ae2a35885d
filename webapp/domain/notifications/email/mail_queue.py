"""Who gets an e-mail about what: rows of the e-mail outbox, written in the caller's transaction.

``queue_email`` (any message: a sign-in link, an alert), ``queue_confirmation`` (the
number and tracking link when a report is made, from any door: the app, the desk when
the caller asks, the auto-reply to an e-mailed report) and ``on_change`` (the updates
the resident chose, closure; it subscribes to every timeline entry) add
``NotificationOutbox`` rows with ``channel="email"`` inside the caller's transaction, so
a change that rolls back mails nobody. Followers who asked for the outcome by e-mail
hear of it too, each in their own language. Our Message-IDs name the request, so the
e-mail intake can match a reply to it.
"""

from __future__ import annotations

from email.utils import make_msgid, parseaddr

from flask import current_app
from sqlalchemy import select

from webapp.domain.errors import DomainError
from webapp.domain.input_rules import normalise_address
from webapp.domain.notifications import mail_caps, mail_loops, notify
from webapp.domain.notifications.email.addresses import address_key, blocked_reason
from webapp.domain.notifications.outbox import PENDING
from webapp.domain.notifications.public_address import base_url
from webapp.domain.people import links
from webapp.i18n import reporter_locale
from webapp.models import Follow, NotificationOutbox, RequestEvent, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

EMAIL = "email"

CONFIRMATION = "confirmation"

CLOSED = "closed"

# The Message-ID domain of acknowledgements sent before they went through the outbox;
# replies to them are still recognised.
LEGACY_MESSAGE_ID_DOMAIN = "civic311.local"

def unsubscribe_url(
    address: str, *, request_id: int | None = None, alert_id: int | None = None
) -> str:
    """The one-click unsubscribe link for a message to ``address``."""
    data = {"e": address_key(address)}
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
    return add_row(to, payload, kind=kind, request=request, event=event)


def add_row(to, payload, *, kind, request=None, event=None) -> NotificationOutbox:
    """One e-mail row of the outbox, due now, in the caller's transaction."""
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
    return add_row(address, payload, kind=kind, request=request, event=event)


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
    return add_row(clean, payload, kind=kind, request=request, event=event)


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
