"""What the links in our e-mail do, once the resident confirms on the page they open.

"Yes, it's fixed" and "No, it's not fixed" act for the requester because only the
address the request was sent with received them; each works once and only for the
closure it was mailed about. Unsubscribe may be used any number of times. A sign-in
link (15 minutes, once) lets a device prove it controls an address, after which that
device sees and acts on the requests sent with it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.domain.errors import DomainError
from webapp.domain.input_rules import normalise_address
from webapp.domain.lifecycle import after_closure
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.notifications import outbox
from webapp.domain.notifications.email import addresses, mail_queue
from webapp.domain.people import links
from webapp.models import AreaAlert, Device, DeviceEmail, ServiceRequest, utcnow
from webapp.plumbing.extensions import db


def request_for(link: links.Link) -> ServiceRequest:
    """The request a fixed / not-fixed link is about, while that closure is current."""
    request = db.session.get(ServiceRequest, link.data.get("r"))
    if request is None:
        raise links.LinkError("tampered")
    closed_at = int(request.closed_at.timestamp()) if request.closed_at else None
    if not request.is_closed or closed_at != link.data.get("c"):
        raise links.LinkError("used")
    return request


def confirm_fixed(token: str) -> ServiceRequest:
    """The resident confirms the fix from the closure mail (caller commits)."""
    link = links.read(links.FIXED, token)
    request = request_for(link)
    links.use(link)
    after_closure.confirm_fixed(request, proven=True)
    return request


def reopen(token: str, comment: str, photos: list[bytes], window_days: int) -> ServiceRequest:
    """The resident says it is not fixed, from the closure mail (caller commits).

    The domain's reopen rule decides (window, comment required); a refusal leaves the
    link unused so the resident can correct the form and try again.

    A closure mail holds one answer: once its "Yes, it's fixed" was used, its "No" link
    counts as used too (and the other way round, as a reopened request is no longer the
    closure the mail was about). Whoever holds a copy of the mail cannot undo the
    resident's answer; if the problem comes back, the resident reopens it from the
    request's page on their own device, or sends a new report.
    """
    link = links.read(links.NOT_FIXED, token)
    request = request_for(link)
    if after_closure.confirmed_fixed(request):
        raise links.LinkError("used")
    after_closure.reopen(request, comment, photos=photos, window_days=window_days, proven=True)
    links.use(link)
    return request


def unsubscribe(token: str) -> dict:
    """Stop the mail a link names (a request's updates or an area alert); doing it twice
    is fine. Returns what was stopped, for the page."""
    link = links.read(links.UNSUBSCRIBE, token, single_use=False)
    address = link.data.get("e")
    if not isinstance(address, str):
        raise links.LinkError("tampered")
    if "a" in link.data:
        alert = db.session.get(AreaAlert, link.data["a"])
        if alert is not None and alert.unsubscribed_at is None:
            alert.unsubscribed_at = utcnow()
        return {"what": "alert", "address": address}
    request_id = link.data.get("r")
    if request_id is not None and db.session.get(ServiceRequest, request_id) is None:
        request_id = None
    addresses.unsubscribe(address, request_id)
    request = db.session.get(ServiceRequest, request_id) if request_id else None
    return {"what": "request" if request else "all", "address": address, "request": request}


def requests_with_address(address: str) -> list[ServiceRequest]:
    """Requests sent with this e-mail address (any capitalisation), newest first."""
    return list(
        db.session.scalars(
            select(ServiceRequest)
            .where(func.lower(ServiceRequest.contact_email) == address.strip().lower())
            .order_by(ServiceRequest.received_at.desc())
            .limit(200)
        )
    )


def send_sign_in_link(address: str, base_url: str) -> bool:
    """Mail a single-use 15-minute sign-in link to ``address`` when requests were sent
    with it (caller commits). The answer shown is the same either way, so nobody learns
    which addresses reported anything; returns whether a mail was queued.

    Both ways do the same work, so the time the answer takes tells nothing either: the
    message is written and its outbox row stored in both cases; for an address that
    sent no requests the row is stored already finished (``dead``, never sent).
    """
    clean = normalise_address(address, field="email")
    if clean is None:
        raise DomainError(
            _("Please enter the e-mail address you gave with your report."), field="email"
        )
    found = requests_with_address(clean)
    token = links.make(links.SIGN_IN, e=clean.lower())
    url = f"{base_url}/e/sign-in/{token}"
    numbers = ", ".join(r.public_id for r in found[:10])
    subject = _("Your requests on another device")
    text = "\n\n".join(
        [
            _("Open this link on the phone or computer where you want to see your requests:"),
            url,
            _(
                "It works once, within %(minutes)d minutes. Your requests: %(numbers)s.",
                minutes=links.SIGN_IN_MINUTES,
                numbers=numbers,
            ),
            _("If you did not ask for this, ignore this e-mail: nothing changes."),
        ]
    )
    html = '<p>{intro}</p><p><a href="{url}">{label}</a></p><p>{rule}</p><p>{ignore}</p>'.format(
        intro=_("Open this link on the phone or computer where you want to see your requests:"),
        url=url,
        label=_("Show my requests on this device"),
        rule=_(
            "It works once, within %(minutes)d minutes. Your requests: %(numbers)s.",
            minutes=links.SIGN_IN_MINUTES,
            numbers=numbers,
        ),
        ignore=_("If you did not ask for this, ignore this e-mail: nothing changes."),
    )
    row = mail_queue.queue_email(clean, subject, text, html, kind="sign_in")
    if row is not None and not found:
        row.state = outbox.DEAD
        row.last_error = "no requests were sent with this address"
    return row is not None and bool(found)


def check_sign_in(token: str) -> str:
    """The address a sign-in link is for (LinkError when tampered, expired or used)."""
    link = links.read(links.SIGN_IN, token)
    return link.data["e"]


def sign_in(token: str, device: Device) -> str:
    """Let ``device`` see the requests sent with the link's address (caller commits)."""
    link = links.read(links.SIGN_IN, token)
    links.use(link)
    address = link.data["e"]
    exists = db.session.scalar(
        select(DeviceEmail.id).where(
            DeviceEmail.device_id == device.id, DeviceEmail.address == address
        )
    )
    if exists is None:
        db.session.add(DeviceEmail(device_id=device.id, address=address))
        db.session.flush()
    return address


def device_addresses(device: Device | None) -> list[str]:
    """The addresses a device proved it controls."""
    if device is None:
        return []
    return list(
        db.session.scalars(select(DeviceEmail.address).where(DeviceEmail.device_id == device.id))
    )


def email_updates_to(request: ServiceRequest, address: str | None, *, user, device) -> str:
    """Someone chooses e-mail for a request's updates (caller commits).

    The requester's address becomes the request's contact address; anyone else follows
    the request with their own address (``supporters.email_outcome_to``), which leaves
    the requester's private contact data alone. Asking again lifts an earlier
    unsubscribe from this request.
    """
    from webapp.domain.lifecycle import supporters
    from webapp.models import EmailOptOut

    if not requests_domain.is_requester(request, user, device):
        return supporters.email_outcome_to(request, address, user=user, device=device)
    clean = normalise_address(address, field="email")
    if clean is None:
        raise DomainError(_("Please enter your e-mail address."), field="email")
    request.contact_email = clean
    for opt_out in db.session.scalars(
        select(EmailOptOut).where(
            EmailOptOut.request_id == request.id, EmailOptOut.address == clean.lower()
        )
    ):
        db.session.delete(opt_out)
    db.session.flush()
    return clean
