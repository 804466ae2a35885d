"""Submitting a report: whichever door it came through (the app, the API, Open311, the
desk, e-mail), a new request is checked the same way and stored exactly once.

A report carries its own key (``client_uuid``, the phone's ``Idempotency-Key``): sent again
with the same words it answers the request already stored, with other words it is refused.
The database's UNIQUE constraint, not a prior SELECT, decides two sends racing. Photos are
processed before anything is written and removed again if the transaction does not commit;
routing chooses the department (``ServiceChosen``) and the channels hear of the new request
(``Created``) inside the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.domain import events, service_levels
from webapp.domain.errors import Conflict, DomainError
from webapp.domain.geo import places
from webapp.domain.input_rules import check_fields, normalise_address
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle.following import add_follow
from webapp.domain.lifecycle.requests import PUBLIC_ID_PREFIX, with_public_record
from webapp.domain.lifecycle.timeline import MAX_DESCRIPTION, normalise_text, record
from webapp.models import (
    ApiKey,
    Channel,
    Device,
    EventKind,
    GeocodeState,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

MAX_PHOTOS = 3
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Submission:
    """Everything a new report carries, whichever door it came through."""

    service_code: str
    lat: float | None
    long: float | None
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    landmark: str | None = None
    accuracy_m: float | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    channel: str = Channel.PWA
    client_uuid: str | None = None
    device_captured_at: datetime | None = None
    requester: User | None = None
    device: Device | None = None
    logged_by: User | None = None
    community_issue: bool = False
    api_key: ApiKey | None = None
    follow: bool = True
    photos: list[bytes] = field(default_factory=list)
    # E-mail the confirmation (number and tracking link) to ``contact_email``: on for
    # residents' own reports; the desk sends it only when the caller asks for it.
    email_confirmation: bool = True
    # The resident's own Message-ID when the report came by e-mail: the confirmation
    # is then the auto-reply to it.
    in_reply_to: str | None = None
    # The language the report was written in, when the door knows it (an e-mail's):
    # every message about the request is written in it.
    locale: str | None = None
    # The service, when the door has already found it taking reports from this caller
    # (the API answers an unknown code with 404 before anything else): not looked up twice.
    service: Service | None = None


@dataclass
class SubmitResult:
    """The stored request and whether this call created it (False for a replay)."""

    request: ServiceRequest
    created: bool


def normalise_client_uuid(value: str | None) -> str:
    """Return a canonical lower-case UUID, or refuse a missing or malformed key (400)."""
    if not value:
        raise DomainError(
            _("The Idempotency-Key header is missing."), status=400, field="Idempotency-Key"
        )
    candidate = value.strip().lower()
    if not UUID_PATTERN.match(candidate):
        raise DomainError(
            _("The Idempotency-Key header must be a UUID."), status=400, field="Idempotency-Key"
        )
    return str(uuid.UUID(candidate))


def checked_client_uuid(value: str) -> str:
    """A submission's own key in canonical form; whatever door it came through, a key
    that is not a UUID is refused (422) before anything is stored, so it can never be
    longer than its column."""
    candidate = value.strip().lower() if isinstance(value, str) else ""
    if not UUID_PATTERN.match(candidate):
        raise DomainError(_("The request key must be a UUID."), status=422, field="client_uuid")
    return str(uuid.UUID(candidate))


def fingerprint(sub: Submission) -> str:
    """A hash of what the resident said, so a replayed key can be told from a reused one."""
    canonical = {
        "service_code": sub.service_code,
        "lat": None if sub.lat is None else round(float(sub.lat), 6),
        "long": None if sub.long is None else round(float(sub.long), 6),
        "description": normalise_text(sub.description),
        "attributes": sub.attributes or {},
        "landmark": (sub.landmark or "").strip(),
        "photos": [hashlib.sha256(photo).hexdigest() for photo in sub.photos],
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def active_service(service_code: str, *, include_private: bool = False) -> Service | None:
    """The service with that code when it takes reports from this caller (active, and
    public unless staff log it), else None."""
    service = db.session.scalars(
        select(Service).where(Service.service_code == service_code)
    ).first()
    if service is None or not service.active or (not service.public and not include_private):
        return None
    return service


def unknown_service(service_code: str, *, status: int = 422) -> DomainError:
    """The refusal for a code that names no service taking reports."""
    return DomainError(
        _("We do not take reports of that kind. Please choose another category."),
        status=status,
        field="service_code",
        details={"service_code": service_code},
    )


def find_service(service_code: str | None, *, include_private: bool = False) -> Service:
    """The active service with that code, or a clear 422."""
    if not service_code:
        raise DomainError(_("Please choose what kind of problem this is."), field="service_code")
    service = active_service(service_code, include_private=include_private)
    if service is None:
        raise unknown_service(service_code)
    return service


def _coerce_attribute(attribute: ServiceAttribute, raw: Any) -> Any:
    """Check one attribute answer against its Open311 datatype."""
    label = attribute.description or attribute.code
    allowed = {str(v.get("key")) for v in attribute.values or []}
    if attribute.datatype == "multivaluelist":
        answers = raw if isinstance(raw, list) else [raw]
        answers = [str(a) for a in answers if str(a) != ""]
        if any(a not in allowed for a in answers):
            raise DomainError(
                _("Please pick from the list for “%(label)s”.", label=label),
                field=f"attribute[{attribute.code}]",
            )
        return answers
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    raw = str(raw).strip()
    if attribute.datatype == "singlevaluelist":
        if raw not in allowed:
            raise DomainError(
                _("Please pick from the list for “%(label)s”.", label=label),
                field=f"attribute[{attribute.code}]",
            )
        return raw
    if attribute.datatype == "number":
        try:
            number = float(raw)
        except ValueError:
            raise DomainError(
                _("“%(label)s” must be a number.", label=label),
                field=f"attribute[{attribute.code}]",
            ) from None
        return int(number) if number.is_integer() else number
    if attribute.datatype == "datetime":
        try:
            datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise DomainError(
                _("“%(label)s” must be a date and time.", label=label),
                field=f"attribute[{attribute.code}]",
            ) from None
        return raw
    if len(raw) > 1000:
        raise DomainError(
            _("“%(label)s” is too long.", label=label), field=f"attribute[{attribute.code}]"
        )
    return raw


def validate_attributes(
    service: Service, answers: dict[str, Any], *, require: bool = True
) -> dict[str, Any]:
    """Keep the answers to the service's own questions; refuse missing required ones
    (unless ``require`` is false: an e-mail cannot answer them, staff do later)."""
    cleaned: dict[str, Any] = {}
    for attribute in service.attributes:
        if not attribute.variable:
            continue
        raw = answers.get(attribute.code)
        empty = raw is None or raw == "" or raw == []
        if empty:
            if attribute.required and require:
                raise DomainError(
                    _(
                        "Please answer “%(question)s”.",
                        question=attribute.description or attribute.code,
                    ),
                    field=f"attribute[{attribute.code}]",
                )
            continue
        cleaned[attribute.code] = _coerce_attribute(attribute, raw)
    return cleaned


def _validate(sub: Submission) -> tuple[Service, dict[str, Any]]:
    service = sub.service
    if service is None or service.service_code != sub.service_code:
        service = find_service(sub.service_code, include_private=sub.channel != Channel.PWA)
    check_fields(
        sub,
        {
            "address": ServiceRequest.address,
            "landmark": ServiceRequest.landmark,
            "contact_name": ServiceRequest.contact_name,
            "contact_email": ServiceRequest.contact_email,
            "contact_phone": ServiceRequest.contact_phone,
        },
    )
    if sub.lat is None or sub.long is None:
        if not ((sub.landmark or "").strip() or (sub.address or "").strip()):
            raise DomainError(
                _("Please pin the spot on the map or describe where it is."), field="location"
            )
    else:
        places.check_inside_city(float(sub.lat), float(sub.long))
    # A contact address must be one (a 422 otherwise); it is kept as it was given, and
    # e-mail to it goes to its normalised form (``mail_queue.on_change``).
    normalise_address(sub.contact_email, field="contact_email")
    sub.contact_email = (sub.contact_email or "").strip() or None
    if len(sub.description or "") > MAX_DESCRIPTION:
        raise DomainError(
            _(
                "The description is too long (at most %(max_description)s characters).",
                max_description=MAX_DESCRIPTION,
            ),
            field="description",
        )
    if len(sub.photos) > MAX_PHOTOS:
        raise DomainError(
            _("Please send at most %(max_photos)s photos.", max_photos=MAX_PHOTOS), field="photos"
        )
    return service, validate_attributes(
        service, sub.attributes or {}, require=sub.channel not in (Channel.EMAIL, Channel.TEXT)
    )


def expected_datetime(service: Service, received_at: datetime) -> datetime | None:
    """When the city aims to be done, from the service's target on the city's business
    clock (``service_levels.due_at``)."""
    return service_levels.due_at(service, received_at)


def _replay(client_uuid: str, print_: str) -> SubmitResult | None:
    existing = (
        db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.client_uuid == client_uuid)
            .options(*with_public_record())
        )
        .unique()
        .first()
    )
    if existing is None:
        return None
    if existing.payload_fingerprint != print_:
        raise Conflict(
            _(
                "This report's key was already used for a different report. Please start a new report."
            ),
            field="Idempotency-Key",
        )
    return SubmitResult(existing, created=False)


def submit(sub: Submission) -> SubmitResult:
    """Store a new request exactly once and commit.

    With a ``client_uuid`` the call is idempotent: the same key and payload return the
    original request (``created=False``); the same key with a different payload is a 422.
    The database's UNIQUE constraint, not a prior SELECT, decides a race between two
    identical sends. Photos are processed before anything is written, and their files
    are removed again if the transaction does not commit.
    """
    if sub.api_key is not None:
        # A key holder speaks for its own users: whoever they name stays a private
        # contact and is never made the requester (nor a follower) of the request.
        sub.requester = None
    if sub.client_uuid:
        sub.client_uuid = checked_client_uuid(sub.client_uuid)
    print_ = fingerprint(sub)
    if sub.client_uuid:
        replay = _replay(sub.client_uuid, print_)
        if replay is not None:
            return replay
    processed = None
    if (sub.lat is None or sub.long is None) and 0 < len(sub.photos) <= MAX_PHOTOS:
        # A report without a pin takes the location from
        # the EXIF GPS of its first photo that has one; the boundary check still applies.
        processed = [photo_pipeline.process(data) for data in sub.photos]
        located = next((item.gps for item in processed if item.gps), None)
        if located is not None:
            sub.lat, sub.long = located
    service, attributes = _validate(sub)
    if processed is None:
        processed = [photo_pipeline.process(data) for data in sub.photos]

    now = utcnow()
    located = sub.lat is not None and sub.long is not None
    request = ServiceRequest(
        service=service,
        description=normalise_text(sub.description),
        lat=float(sub.lat) if located else None,
        long=float(sub.long) if located else None,
        needs_location=not located,
        location_accuracy_m=sub.accuracy_m if located else None,
        address=(sub.address or None),
        landmark=(sub.landmark or "").strip() or None,
        geocode_state=(
            GeocodeState.NOT_NEEDED if sub.address or not located else GeocodeState.PENDING
        ),
        status="open",
        detailed_status=Status.SUBMITTED,
        department_id=service.department_id,
        requester=sub.requester,
        device=sub.device,
        contact_name=sub.contact_name or None,
        contact_email=sub.contact_email or None,
        contact_phone=sub.contact_phone or None,
        channel=sub.channel,
        logged_by=sub.logged_by,
        community_issue=sub.community_issue,
        api_key_id=sub.api_key.id if sub.api_key else None,
        client_uuid=sub.client_uuid,
        payload_fingerprint=print_,
        attribute_values=attributes,
        neighborhood=(
            places.neighborhood_for(float(sub.lat), float(sub.long)) if located else None
        ),
        device_captured_at=sub.device_captured_at,
        locale=sub.locale,
        received_at=now,
        updated_at=now,
        expected_at=expected_datetime(service, now),
    )
    events.publish(events.ServiceChosen(request))  # routing chooses the department
    db.session.add(request)
    written: list[str] = []
    try:
        db.session.flush()
        request.public_id = f"{PUBLIC_ID_PREFIX}{request.id:06d}"
        for item in processed:
            written.extend(photo_pipeline.attach(request, item))
        record(
            request,
            EventKind.CREATED,
            actor=sub.logged_by or sub.requester,
            to_status=Status.SUBMITTED,
            announce=lambda entry: events.Created(
                entry, confirm_by_email=sub.email_confirmation, in_reply_to=sub.in_reply_to
            ),
        )
        if sub.follow and (sub.requester or sub.device):
            add_follow(request, sub.requester, sub.device, supporter=False)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        photo_pipeline.discard(written)
        if sub.client_uuid:
            replay = _replay(sub.client_uuid, print_)
            if replay is not None:
                return replay
        raise
    except BaseException:
        db.session.rollback()
        photo_pipeline.discard(written)
        raise
    return SubmitResult(request, created=True)
