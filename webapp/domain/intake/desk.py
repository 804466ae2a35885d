"""The call-taker desk: log a phone call or a walk-in for a caller.

A new request from the desk follows the same rules as the app (``requests.submit``:
service questions, city limits, photos, routing, a contact recorded). The caller's
name, e-mail, phone and home address are the request's private contact; they never
appear on public pages. A caller whose problem is already reported is added as a
supporter of that request instead; a call that needed only an answer is a contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.intake import contacts
from webapp.domain.lifecycle import following, timeline
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.people import accounts
from webapp.models import (
    Channel,
    Contact,
    ContactKind,
    EventKind,
    Follow,
    ServiceRequest,
    User,
)
from webapp.plumbing.extensions import db

# A chat's request is logged at the desk too (the desk view checks it has a chat).
STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL, Channel.CHAT)


@dataclass
class Caller:
    """Who is calling; every field optional, all of them private."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None

    def cleaned(self) -> Caller:
        """Trimmed values, empty ones as None, e-mail in lower case."""

        def tidy(value, size):
            return (value or "").strip()[:size] or None

        email = tidy(self.email, 254)
        if email and ("@" not in email or " " in email):
            raise DomainError(_("That e-mail address does not look right."), field="caller_email")
        return Caller(
            tidy(self.name, 120),
            email and email.lower(),
            tidy(self.phone, 40),
            tidy(self.address, 255),
        )


def log_request(
    handler: User,
    *,
    channel: str,
    service_code: str,
    lat: float | None,
    long: float | None,
    caller: Caller,
    description: str = "",
    attributes: dict[str, Any] | None = None,
    address: str | None = None,
    landmark: str | None = None,
    client_uuid: str | None = None,
    photos: list[bytes] | None = None,
    confirm_by_email: bool = False,
) -> requests_domain.SubmitResult:
    """A new request for this caller, by the app's own rules; committed.

    A caller whose e-mail belongs to an account becomes the requester (they see it
    under "My requests"). ``confirm_by_email`` sends them the confirmation (number and
    tracking link) through the notification outbox, in the same transaction; without
    it they get none.
    """
    if channel not in STAFF_CHANNELS:
        raise DomainError(
            _("The channel must be phone, walk_in or email."), field="channel", status=422
        )
    caller = caller.cleaned()
    if confirm_by_email and not caller.email:
        raise DomainError(
            _("Please take the caller's e-mail address to send a confirmation."),
            field="caller_email",
        )
    requester = accounts.find_by_email(caller.email) if caller.email else None
    result = requests_domain.submit(
        requests_domain.Submission(
            service_code=service_code,
            lat=lat,
            long=long,
            description=description,
            attributes=attributes or {},
            address=address,
            landmark=landmark,
            contact_name=caller.name,
            contact_email=caller.email,
            contact_phone=caller.phone,
            channel=channel,
            client_uuid=client_uuid,
            requester=requester,
            logged_by=handler,
            follow=requester is not None,
            photos=photos or [],
            email_confirmation=confirm_by_email,
        )
    )
    if result.created and caller.address:
        contact = db.session.scalars(
            select(Contact).where(Contact.request_id == result.request.id)
        ).first()
        if contact is not None:
            contact.caller_address = caller.address
            db.session.commit()
    return result


def add_supporter(
    request: ServiceRequest, handler: User, caller: Caller, *, channel: str = Channel.PHONE
) -> Contact:
    """The caller reports something already reported: count them as a supporter.

    An account holder follows the request; anyone else is a supporter known only by
    the private contact on the city's side. Either way the call is a contact.
    """
    if channel not in STAFF_CHANNELS:
        raise DomainError(_("The channel must be phone, walk_in or email."), field="channel")
    if request.is_closed:
        raise NotAllowed(_("This request is closed; log a new one instead."))
    caller = caller.cleaned()
    account = accounts.find_by_email(caller.email) if caller.email else None
    if account is not None:
        following.follow(request, user=account)
    else:
        db.session.add(Follow(request=request, supporter=True))
        db.session.flush()
        request.supporters_count = following.count_supporters(request)
    timeline.record(
        request,
        EventKind.PRIVATE_NOTE,
        actor=handler,
        public=False,
        note=_("A caller was added as a supporter (%(channel)s).", channel=channel),
    )
    contact = contacts.record(
        channel=channel,
        kind=ContactKind.SUPPORTER,
        handler=handler,
        user=account,
        request=request,
        caller_name=caller.name,
        caller_email=caller.email,
        caller_phone=caller.phone,
        caller_address=caller.address,
    )
    db.session.commit()
    return contact


def log_information_call(
    handler: User,
    caller: Caller,
    *,
    channel: str = Channel.PHONE,
    answer=None,
    topic: str | None = None,
    note: str | None = None,
) -> Contact:
    """A call that needed only an answer: committed as a contact, not a request."""
    caller = caller.cleaned()
    contact = contacts.record_information_call(
        handler,
        channel=channel,
        answer=answer,
        topic=topic,
        note=note,
        caller_name=caller.name,
        caller_email=caller.email,
        caller_phone=caller.phone,
        caller_address=caller.address,
    )
    db.session.commit()
    return contact
