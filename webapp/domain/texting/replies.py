"""Every text the city sends a texter, in their language, kept to two segments.

Each function returns the words only; ``inbound`` renders them in the number's language
(``render_in_locale``) and folds letters outside GSM-7 ("á" → "a") so a Spanish reply
costs what an English one does. Links are the request's public page.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from webapp.content_i18n import localized
from webapp.domain import glossary
from webapp.domain import sms_segments as segments
from webapp.domain.notifications import public_address
from webapp.models import Service, ServiceRequest, Status


def city() -> str:
    """The city's name, as texts sign it."""
    return current_app.config.get("CITY_NAME") or "Civic311"


def request_link(request: ServiceRequest) -> str:
    """The request's public page."""
    return f"{public_address.base_url()}/requests/{request.public_id}"


def menu_line(services: list[Service]) -> str:
    """ "1 Pothole, 2 Graffiti, …" in the current language."""
    return ", ".join(
        f"{number} {localized(service, 'name')}" for number, service in enumerate(services, 1)
    )


def welcome(services: list[Service]) -> str:
    return _(
        "%(city)s 311: what is wrong? Tell us in your own words, or reply with a number: "
        "%(menu)s. HELP for help.",
        city=city(),
        menu=menu_line(services),
    )


def unsure(services: list[Service]) -> str:
    return _(
        "Sorry, what kind of problem is it? Reply with a number: %(menu)s",
        menu=menu_line(services),
    )


def ask_place(service: Service) -> str:
    return _(
        "%(service)s: where is it? Reply with an address or a landmark, or share your location.",
        service=localized(service, "name"),
    )


def place_problem(reason: str) -> str:
    if reason == "outside":
        return _("That place is outside %(city)s. Please send a place in the city.", city=city())
    if reason == "down":
        return _(
            "We cannot look addresses up right now. Please share your location, or try again "
            "in a few minutes."
        )
    return _(
        "We could not find that place. Reply with a street address (like 101 E 11th St) or "
        "share your location."
    )


def ask_photo(label: str | None) -> str:
    if label:
        return _(
            "Got it: %(place)s. Send a photo of the problem, or reply SKIP.",
            place=segments.shorten(label, 1)[:80],
        )
    return _("Got it. Send a photo of the problem, or reply SKIP.")


def photo_or_skip() -> str:
    return _("Send a photo of the problem, or reply SKIP to send your report without one.")


def not_a_photo() -> str:
    return _("That attachment is not a photo. Send a photo, or reply SKIP.")


def photo_refused(reason: str) -> str:
    return _(
        "That photo could not be used (%(reason)s). Send another, or reply SKIP.", reason=reason
    )


def confirmation(request: ServiceRequest) -> str:
    return _(
        "Thank you. Your report is %(id)s. Follow it: %(link)s Text %(id)s for news.",
        id=request.public_id,
        link=request_link(request),
    )


def not_made(reason: str) -> str:
    return _("Sorry, the report could not be made: %(reason)s", reason=reason)


def answer(summary: str, link: str) -> str:
    text = _("%(summary)s More: %(link)s", summary=summary, link=link)
    if segments.segments(text) <= segments.TARGET_SEGMENTS:
        return text
    room = segments.shorten(summary, 1)
    return _("%(summary)s More: %(link)s", summary=room, link=link)


def status(request: ServiceRequest) -> str:
    name = localized(request.service, "name")
    if request.detailed_status == Status.CLOSED:
        state = glossary.resolution_word(request.resolution)
        return _(
            "%(id)s %(service)s: %(state)s. Not fixed? Reply %(id)s NOT FIXED. %(link)s",
            id=request.public_id,
            service=name,
            state=state,
            link=request_link(request),
        )
    return _(
        "%(id)s %(service)s: %(state)s. %(meaning)s %(link)s",
        id=request.public_id,
        service=name,
        state=glossary.status_word(request.detailed_status),
        meaning=glossary.status_meaning(request.detailed_status, own=True),
        link=request_link(request),
    )


def unknown_request(public_id: str) -> str:
    return _("We found no request %(id)s. Please check the number.", id=public_id)


def reopened(request: ServiceRequest) -> str:
    return _(
        "%(id)s is open again. The city will look at it again. %(link)s",
        id=request.public_id,
        link=request_link(request),
    )


def not_yours(public_id: str) -> str:
    return _("Only the number that reported %(id)s can reopen it.", id=public_id)


def stopped() -> str:
    return _(
        "You will get no more texts from %(city)s 311. Reply START to get them again.",
        city=city(),
    )


def started(services: list[Service]) -> str:
    return _("Texts from %(city)s 311 are on again.", city=city()) + " " + welcome(services)


def help_text() -> str:
    return _(
        "%(city)s 311: text what is wrong and where. Text your report number for news. "
        "STOP to stop texts. ESPANOL for Spanish. Emergencies: call 911.",
        city=city(),
    )


def help_while_stopped() -> str:
    return _(
        "%(city)s 311: you asked for no texts, so we send none. Reply START to get them "
        "again. Emergencies: call 911.",
        city=city(),
    )


def flood() -> str:
    return _(
        "You are sending messages faster than we can read them. Please wait a minute and try again."
    )
