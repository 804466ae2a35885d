"""What we send a city CRM: a request and a resident's update as GeoReport v2 fields.

A request carries our reference at the end of its description (so it can be found at the
CRM when an answer is lost), where it is as a strict CRM accepts it (pinned, else by the
``FORWARD_NOT_PINPOINTED`` choice), the contact, the answers and signed photo links.
An update follows mySociety's ``POST servicerequestupdates`` fields.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.open311 import open311_statuses, photo_links
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    ForwardTarget,
    Photo,
    PhotoKind,
    ServiceRequest,
)
from webapp.plumbing.extensions import db

REFERENCE = "Civic311 ref."


def reference(request: ServiceRequest, suffix: str = "") -> str:
    """Our reference, carried at the end of the description so we can find the
    request at the CRM when its answer was lost."""
    return f"{REFERENCE} {request.public_id}{suffix}"


def _city_centre() -> tuple[float, float] | None:
    raw = (current_app.config.get("FORWARD_CITY_CENTRE") or "").split(",")
    try:
        return (float(raw[0]), float(raw[1])) if len(raw) == 2 else None
    except ValueError:
        return None


def _location(request: ServiceRequest, description: str) -> tuple[list[tuple[str, str]], str]:
    """Where the request is, as a strict GeoReport v2 CRM accepts it.

    Pinned: ``lat``/``long``. Not pinned, by ``FORWARD_NOT_PINPOINTED``: ``address``
    (default) sends the resident's address or landmark as ``address_string``;
    ``centre`` sends ``FORWARD_CITY_CENTRE`` with a note at the top of the description
    that the point is the city centre, not the place; ``fixmystreet`` sends
    FixMyStreet's ``address_id=#NOTPINPOINTED#`` for CRMs that know it.
    """
    if request.lat is not None and request.long is not None:
        return [("lat", f"{request.lat:.6f}"), ("long", f"{request.long:.6f}")], description
    place = request.address or request.landmark or ""
    if request.landmark and request.landmark not in description:
        description = f"{request.landmark}\n\n{description}".strip()
    strategy = (current_app.config.get("FORWARD_NOT_PINPOINTED") or "address").strip().lower()
    centre = _city_centre()
    if strategy == "centre" and centre is not None:
        note = _("Not pinpointed: the point is the city centre, not the place. The place: %(place)s",
                 place=place or _("see the description"))
        return [("lat", f"{centre[0]:.6f}"), ("long", f"{centre[1]:.6f}")], f"{note}\n\n{description}"
    if strategy == "fixmystreet" or not place:
        return [("address_id", "#NOTPINPOINTED#")], description
    return [("address_string", place[:255])], description


def _photo_links(request: ServiceRequest) -> list[tuple[str, str]]:
    """The report's own photos as signed, expiring ``media_url`` links (the first is
    the one a strict GeoReport v2 CRM reads)."""
    photos = db.session.scalars(
        select(Photo)
        .where(Photo.request_id == request.id, Photo.kind == PhotoKind.REPORT)
        .order_by(Photo.id)
    ).all()
    return [("media_url", photo_links.link(photo)) for photo in photos]


def request_fields(
    request: ServiceRequest, target: ForwardTarget, *, description: str | None = None,
    suffix: str = "",
) -> list[tuple[str, str]]:
    """The GeoReport v2 form of a request, as the CRM expects it."""
    text = description if description is not None else (request.description or request.landmark or "")
    location, text = _location(request, text)
    fields: list[tuple[str, str]] = [
        ("api_key", target.api_key or ""),
        ("service_code", request.service.service_code),
        ("description", f"{text}\n\n{reference(request, suffix)}".strip()),
    ]
    if target.jurisdiction_id:
        fields.append(("jurisdiction_id", target.jurisdiction_id))
    fields += location
    if request.address and not any(name == "address_string" for name, _v in location):
        fields.append(("address_string", request.address))
    contact_email = request.contact_email or (
        request.requester.email if request.requester else None
    )
    if contact_email:
        fields.append(("email", contact_email))
    name = request.contact_name or (request.requester.display_name if request.requester else "")
    if name:
        first, _space, last = name.partition(" ")
        fields += [("first_name", first), ("last_name", last)]
    if request.contact_phone:
        fields.append(("phone", request.contact_phone))
    for code, value in (request.attribute_values or {}).items():
        if isinstance(value, list):
            fields += [(f"attribute[{code}][]", str(v)) for v in value]
        else:
            fields.append((f"attribute[{code}]", str(value)))
    return fields + _photo_links(request)


def update_fields(item: ForwardedUpdate) -> list[tuple[str, str]]:
    """mySociety's POST servicerequestupdates fields for one of our timeline entries."""
    event, row = item.event, item.forwarding
    request, target = row.request, row.target
    reopening = event.kind == EventKind.REOPENED
    status = "OPEN" if reopening else open311_statuses.basic_status(request.detailed_status).upper()
    fields = [
        ("api_key", target.api_key or ""),
        ("service_request_id", row.external_id or ""),
        ("update_id", str(event.id)),
        ("status", status),
        ("updated_datetime", event.created_at.isoformat(timespec="seconds")),
        ("description", event.note or ""),
    ]
    if target.jurisdiction_id:
        fields.append(("jurisdiction_id", target.jurisdiction_id))
    email = request.contact_email or (request.requester.email if request.requester else None)
    if email:
        fields.append(("email", email))
    name = (event.data or {}).get("author") or request.contact_name or ""
    if name:
        first, _space, last = name.partition(" ")
        fields += [("first_name", first), ("last_name", last or "-")]
    return fields
