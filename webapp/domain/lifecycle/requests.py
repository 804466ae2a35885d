"""The life of a service request: submit (idempotent), move through the workflow,
merge duplicates, follow, and reopen when it was not really fixed.

Workflow: submitted → acknowledged → in_progress → closed(resolution). Every change
writes a RequestEvent and publishes it (``webapp.domain.events``); whoever subscribed
(notifications, forwarding, area alerts, routing) acts in the same transaction. Callers
commit; on a DomainError they roll back.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.domain import events, service_levels
from webapp.domain.errors import Conflict, DomainError, NotAllowed, NotFound
from webapp.domain.geo import places
from webapp.domain.input_rules import (
    InputError,
    check_fields,
    clean_text,
    column_length,
    normalise_address,
)
from webapp.domain.lifecycle.timeline import MAX_DESCRIPTION, normalise_text, record
from webapp.models import (
    ApiKey,
    Channel,
    Device,
    DeviceEmail,
    EventKind,
    Follow,
    GeocodeState,
    RequestEvent,
    Resolution,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

MAX_PHOTOS = 3
PUBLIC_ID_PREFIX = "311-"
PUBLIC_ID_TEXT = re.compile(r"^[\x20-\x7e]{1,20}$")
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.SUBMITTED: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ACKNOWLEDGED: {Status.IN_PROGRESS, Status.CLOSED},
    Status.IN_PROGRESS: {Status.ACKNOWLEDGED, Status.CLOSED},
    Status.CLOSED: set(),
}


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


def find_service(service_code: str | None, *, include_private: bool = False) -> Service:
    """The active service with that code, or a clear 422."""
    if not service_code:
        raise DomainError(_("Please choose what kind of problem this is."), field="service_code")
    service = db.session.scalars(
        select(Service).where(Service.service_code == service_code)
    ).first()
    if service is None or not service.active or (not service.public and not include_private):
        raise DomainError(
            _("We do not take reports of that kind. Please choose another category."),
            field="service_code",
            details={"service_code": service_code},
        )
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
    service = find_service(sub.service_code, include_private=sub.channel != Channel.PWA)
    if sub.lat is None or sub.long is None:
        if not ((sub.landmark or "").strip() or (sub.address or "").strip()):
            raise DomainError(
                _("Please pin the spot on the map or describe where it is."), field="location"
            )
    else:
        places.check_inside_city(float(sub.lat), float(sub.long))
    # A contact address must be one (a 422 otherwise); it is kept as it was given, and
    # e-mail to it goes to its normalised form (``mail.on_change``).
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
        service, sub.attributes or {}, require=sub.channel != Channel.EMAIL
    )


def expected_datetime(service: Service, received_at: datetime) -> datetime | None:
    """When the city aims to be done, from the service's target on the city's business
    clock (``service_levels.due_at``)."""
    return service_levels.due_at(service, received_at)


def _replay(client_uuid: str, print_: str) -> SubmitResult | None:
    existing = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.client_uuid == client_uuid)
    ).first()
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
    from webapp.domain.lifecycle import photos as photo_pipeline

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
            _add_follow(request, sub.requester, sub.device, supporter=False)
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


def public_id_from_number(raw: str | None) -> str | None:
    """The public id a person typed, in any of its forms (``311-000123``, ``#123``,
    ``000123``, ``123``), or None when it is not one.

    Only ASCII digits count (the whole-number input rule): ``²`` or ``٣`` are digits to
    Python's ``isdigit`` but not a request number.
    """
    text = (raw or "").strip().upper()
    digits = text.removeprefix(PUBLIC_ID_PREFIX.upper()).lstrip("#")
    if not digits or len(digits) > 9 or not digits.isascii() or not digits.isdigit():
        return None
    return f"{PUBLIC_ID_PREFIX}{int(digits):06d}"


def get_by_public_id(public_id: str) -> ServiceRequest:
    """The request with that public id (``311-000123``), or NotFound."""
    if not isinstance(public_id, str) or not PUBLIC_ID_TEXT.match(public_id):
        raise NotFound(_("We could not find that request. Please check the number."))
    request = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.public_id == public_id)
    ).first()
    if request is None:
        raise NotFound(_("We could not find that request. Please check the number."))
    return request


def get_public_by_public_id(public_id: str) -> ServiceRequest:
    """The request when the public may see it: a request in a private service is NotFound,
    exactly as if it did not exist (the API, the pages and push all answer 404)."""
    request = get_by_public_id(public_id)
    if not request.service.public:
        raise NotFound(_("We could not find that request."))
    return request


def _require_note(note: str | None, what: str) -> str:
    note = (note or "").strip()
    if not note:
        raise DomainError(
            _("Please write a public note for the resident before you %(what)s.", what=what),
            field="note",
        )
    if len(note) > MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="note")
    return note


def transition(
    request: ServiceRequest,
    to_status: str,
    actor: User,
    *,
    note: str | None = None,
    resolution: str | None = None,
    referred_to: str | None = None,
    duplicate_of: ServiceRequest | None = None,
    origin: dict | None = None,
) -> RequestEvent:
    """Move a request along the workflow; refuse moves the workflow does not allow.

    Closing needs a resolution and a public note; ``duplicate`` needs the surviving
    request and ``referred`` needs where it was referred to. ``origin`` is recorded on
    the timeline entry before it is published (a change from the city's CRM says so,
    and the channels that listen can tell).
    """
    try:
        target = Status(to_status)
    except ValueError:
        raise DomainError(_("That is not a status we know."), field="status") from None
    current = request.detailed_status
    if target not in ALLOWED_TRANSITIONS[current]:
        raise NotAllowed(
            _(
                "A request that is %(current_replace)s cannot move to %(target_replace)s.",
                current_replace=current.replace("_", " "),
                target_replace=target.replace("_", " "),
            ),
            field="status",
        )
    if target != Status.CLOSED:
        request.detailed_status = target
        request.status = "open"
        kind = EventKind.ACKNOWLEDGED if target == Status.ACKNOWLEDGED else EventKind.STATUS_CHANGED
        clean = (note or "").strip() or None
        return record(
            request,
            kind,
            actor=actor,
            from_status=current,
            to_status=target,
            note=clean,
            data=dict(origin or {}),
        )

    clean_note = _require_note(note, "close it")
    try:
        outcome = Resolution(resolution or "")
    except ValueError:
        raise DomainError(
            _("Please choose how the request was resolved."), field="resolution"
        ) from None
    data: dict[str, Any] = {**(origin or {}), "resolution": outcome.value}
    if outcome == Resolution.DUPLICATE:
        if duplicate_of is None or duplicate_of.id == request.id:
            raise DomainError(
                _("Please say which request this one duplicates."), field="duplicate_of"
            )
        request.duplicate_of = duplicate_of
        data["duplicate_of"] = duplicate_of.public_id
    if outcome == Resolution.REFERRED:
        if not (referred_to or "").strip():
            raise DomainError(_("Please say where the request was referred."), field="referred_to")
        try:
            request.referred_to = clean_text(
                referred_to.strip(), max_length=column_length(ServiceRequest.referred_to)
            )
        except InputError as error:
            raise DomainError(f"referred_to {error.message}.", field="referred_to") from None
        data["referred_to"] = request.referred_to
    now = utcnow()
    service_levels.resume(request, now)  # a close while waiting on the resident ends the pause
    request.detailed_status = Status.CLOSED
    request.status = "closed"
    request.resolution = outcome
    request.resolution_note = clean_note
    request.closed_at = now
    return record(
        request,
        EventKind.STATUS_CHANGED,
        actor=actor,
        from_status=current,
        to_status=Status.CLOSED,
        note=clean_note,
        data=data,
    )


def place(request: ServiceRequest, actor: User, lat: float, long: float) -> RequestEvent:
    """Staff put a request that needs a location on the map (a private timeline entry).

    The point must be inside the city; the address is then looked up after commit.
    """
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise DomainError(_("That is not a position on the map."), field="lat")
    places.check_inside_city(lat, long)
    request.lat, request.long = lat, long
    request.needs_location = False
    request.neighborhood = places.neighborhood_for(lat, long)
    if not request.address:
        request.geocode_state = GeocodeState.PENDING
    return record(
        request,
        EventKind.PRIVATE_NOTE,
        actor=actor,
        note=_("Location set on the map."),
        public=False,
        data={"lat": lat, "long": long},
        announce=events.Moved,
    )


def add_note(request: ServiceRequest, actor: User, note: str, *, public: bool) -> RequestEvent:
    """Add a public note (the resident sees it) or a private one (staff only)."""
    clean = (note or "").strip()
    if not clean:
        raise DomainError(_("The note is empty."), field="note")
    if len(clean) > MAX_DESCRIPTION:
        raise DomainError(_("The note is too long."), field="note")
    kind = EventKind.PUBLIC_NOTE if public else EventKind.PRIVATE_NOTE
    return record(request, kind, actor=actor, note=clean, public=public)


def assign(
    request: ServiceRequest,
    actor: User,
    *,
    department_id: int | None = None,
    assignee: User | None = None,
) -> RequestEvent:
    """Give the request to a department and/or a person (a private timeline entry)."""
    if request.is_closed:
        raise NotAllowed(_("A closed request cannot be assigned."))
    if assignee is not None and not assignee.is_staff:
        raise DomainError(_("Requests can only be assigned to city staff."), field="assignee")
    moved = department_id is not None and department_id != request.department_id
    previous = request.assignee_id
    if department_id is not None:
        request.department_id = department_id
    request.assignee = assignee
    data = {
        "department_id": request.department_id,
        "assignee": assignee.display_name if assignee else None,
    }
    newly_assigned = assignee if assignee is not None and assignee.id != previous else None
    return record(
        request,
        EventKind.ASSIGNED,
        actor=actor,
        public=False,
        data=data,
        announce=lambda entry: events.Assigned(
            entry, moved=moved, newly_assigned=newly_assigned
        ),
    )


def merge(
    duplicate: ServiceRequest, survivor: ServiceRequest, actor: User, note: str | None = None
) -> RequestEvent:
    """Close ``duplicate`` as a duplicate of ``survivor``; its followers move over."""
    if duplicate.id == survivor.id:
        raise DomainError(_("A request cannot be merged into itself."), field="survivor")
    if duplicate.is_closed:
        raise NotAllowed(_("This request is already closed."), field="survivor")
    if survivor.is_closed:
        raise NotAllowed(_("Merge into an open request."), field="survivor")
    moved = 0
    for follow in db.session.scalars(select(Follow).where(Follow.request_id == duplicate.id)):
        if not _following(survivor, follow.user_id, follow.device_id):
            db.session.add(
                Follow(
                    request=survivor,
                    user_id=follow.user_id,
                    device_id=follow.device_id,
                    supporter=True,
                )
            )
            moved += 1
    if duplicate.requester_id or duplicate.device_id:
        if not _following(survivor, duplicate.requester_id, duplicate.device_id) and (
            duplicate.requester_id != survivor.requester_id
            or duplicate.device_id != survivor.device_id
        ):
            db.session.add(
                Follow(
                    request=survivor,
                    user_id=duplicate.requester_id,
                    device_id=duplicate.device_id,
                    supporter=True,
                )
            )
            moved += 1
    db.session.flush()
    survivor.supporters_count = _count_supporters(survivor)
    message = (note or "").strip() or _(
        "Merged into %(survivor)s, which reports the same problem.", survivor=survivor.public_id
    )
    event = transition(
        duplicate,
        Status.CLOSED,
        actor,
        note=message,
        resolution=Resolution.DUPLICATE,
        duplicate_of=survivor,
    )
    record(
        survivor,
        EventKind.MERGED,
        actor=actor,
        data={"merged": duplicate.public_id, "followers_moved": moved},
    )
    return event


def reopen(
    request: ServiceRequest,
    comment: str,
    *,
    user: User | None = None,
    device: Device | None = None,
    photos: list[bytes] | None = None,
    window_days: int = 30,
    now: datetime | None = None,
    proven: bool = False,
) -> RequestEvent:
    """The requester says "not fixed": back to the staff queue, flagged as reopened.

    ``proven`` means the caller already proved to be the requester another way (a
    signed link sent to the address they gave, or the Open311 client that submitted
    the request sending the contact address stored on it)."""
    from webapp.domain.lifecycle import photos as photo_pipeline

    now = now or utcnow()
    if not proven and not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can reopen it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("This request is still open."))
    if request.closed_at and now - request.closed_at > timedelta(days=window_days):
        raise NotAllowed(
            _(
                "Requests can be reopened for %(window_days)s days after they close. Please make a new report.",
                window_days=window_days,
            )
        )
    clean = normalise_text(comment)
    if not clean:
        raise DomainError(_("Please tell the city what is still wrong."), field="comment")
    if len(clean) > MAX_DESCRIPTION:
        raise DomainError(_("The comment is too long."), field="comment")
    processed = [photo_pipeline.process(data) for data in (photos or [])]
    previous = request.detailed_status
    request.detailed_status = Status.ACKNOWLEDGED
    request.status = "open"
    request.reopened = True
    request.reopen_count += 1
    request.resolution = None
    request.resolution_note = None
    request.referred_to = None
    request.duplicate_of = None
    request.closed_at = None
    event = record(
        request,
        EventKind.REOPENED,
        actor=user,
        from_status=previous,
        to_status=Status.ACKNOWLEDGED,
        note=clean,
    )
    for item in processed:
        photo_pipeline.attach(request, item, kind="reopen", event=event)
    return event


def answer_survey(
    request: ServiceRequest,
    rating: int,
    comment: str | None,
    *,
    user: User | None = None,
    device: Device | None = None,
) -> RequestEvent:
    """Record the requester's 1–5 rating of how the request was handled."""
    if not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can rate it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("You can rate a request once it is closed."))
    if not isinstance(rating, int) or rating not in range(1, 6):
        raise DomainError(_("Please choose a rating from 1 to 5."), field="rating")
    if survey_rating(request) is not None:
        raise NotAllowed(_("Thank you, you already rated this request."), field="rating")
    return record(
        request,
        EventKind.SURVEY_ANSWERED,
        actor=user,
        public=False,
        note=(comment or "").strip()[:MAX_DESCRIPTION] or None,
        data={"rating": rating},
    )


def _events_since_closure(request: ServiceRequest, kind: str) -> list[RequestEvent]:
    """Events of ``kind`` recorded since the request last closed (newest last)."""
    if request.closed_at is None:
        return []
    return [e for e in request.events if e.kind == kind and e.created_at >= request.closed_at]


def survey_rating(request: ServiceRequest) -> int | None:
    """The requester's rating of the current closure, or None when not rated yet."""
    answers = _events_since_closure(request, EventKind.SURVEY_ANSWERED)
    return answers[-1].data.get("rating") if answers else None


def confirmed_fixed(request: ServiceRequest) -> bool:
    """True when the requester confirmed the current closure ("Yes, it's fixed")."""
    return bool(_events_since_closure(request, EventKind.CONFIRMED_FIXED))


def can_reopen(request: ServiceRequest, window_days: int, now: datetime | None = None) -> bool:
    """True while a closed request is still inside the reopen window."""
    if not request.is_closed or request.closed_at is None:
        return False
    return (now or utcnow()) - request.closed_at <= timedelta(days=window_days)


def confirm_fixed(
    request: ServiceRequest,
    *,
    user: User | None = None,
    device: Device | None = None,
    proven: bool = False,
) -> RequestEvent:
    """The requester says "yes, it's fixed": a public timeline entry, once per closure."""
    if not proven and not is_requester(request, user, device):
        raise NotAllowed(_("Only the person who reported this can confirm it."), status=403)
    if not request.is_closed:
        raise NotAllowed(_("This request is still open."))
    if confirmed_fixed(request):
        raise NotAllowed(_("You already confirmed that this is fixed. Thank you!"))
    return record(request, EventKind.CONFIRMED_FIXED, actor=user)


def response_templates(service_id: int | None, status: str | None = None) -> list:
    """Canned notes for a service and target status; generic ones (no service) too."""
    from sqlalchemy import or_

    from webapp.models import ResponseTemplate

    query = select(ResponseTemplate).where(
        or_(ResponseTemplate.service_id.is_(None), ResponseTemplate.service_id == service_id)
    )
    if status is not None:
        query = query.where(
            or_(ResponseTemplate.status.is_(None), ResponseTemplate.status == status)
        )
    return list(db.session.scalars(query.order_by(ResponseTemplate.title)))


def is_requester(request: ServiceRequest, user: User | None, device: Device | None) -> bool:
    """True when ``user`` made the request, or ``device`` made it (or proved it controls
    the e-mail address the request was sent with: it followed a sign-in link) and no
    account owns it.

    A request an account has claimed is that account's alone: the phone it was sent
    from no longer speaks for it (the next person on a shared phone cannot reopen it).
    """
    if user is not None and request.requester_id == user.id:
        return True
    if device is None or request.requester_id is not None:
        return False
    if request.device_id == device.id:
        return True
    if not request.contact_email:
        return False
    return (
        db.session.scalar(
            select(DeviceEmail.id).where(
                DeviceEmail.device_id == device.id,
                DeviceEmail.address == request.contact_email.strip().lower(),
            )
        )
        is not None
    )


def owned_by(user: User | None, device: Device | None):
    """A condition for the requests ``user`` or ``device`` made (see ``is_requester``),
    or None when the caller is nobody."""
    conditions = []
    if user is not None:
        conditions.append(ServiceRequest.requester_id == user.id)
    if device is not None:
        proven = select(DeviceEmail.address).where(DeviceEmail.device_id == device.id)
        conditions.append(
            and_(
                or_(
                    ServiceRequest.device_id == device.id,
                    func.lower(ServiceRequest.contact_email).in_(proven.scalar_subquery()),
                ),
                ServiceRequest.requester_id.is_(None),
            )
        )
    return or_(*conditions) if conditions else None


def _following(request: ServiceRequest, user_id: int | None, device_id: int | None) -> bool:
    query = select(Follow.id).where(Follow.request_id == request.id)
    if user_id is not None:
        if db.session.scalars(query.where(Follow.user_id == user_id)).first():
            return True
    if device_id is not None:
        if db.session.scalars(query.where(Follow.device_id == device_id)).first():
            return True
    return False


def _count_supporters(request: ServiceRequest) -> int:
    return (
        db.session.scalar(
            select(func.count(Follow.id)).where(
                Follow.request_id == request.id, Follow.supporter.is_(True)
            )
        )
        or 0
    )


def _add_follow(
    request: ServiceRequest, user: User | None, device: Device | None, *, supporter: bool
) -> Follow:
    item = Follow(
        request=request,
        # A signed-in person follows as themselves; the device is only for the anonymous.
        device_id=device.id if device and not user else None,
        user_id=user.id if user else None,
        supporter=supporter,
    )
    db.session.add(item)
    db.session.flush()
    return item


def _as_caller(user: User | None, device: Device | None) -> tuple[User | None, Device | None]:
    """A signed-in person acts as themselves; the device speaks only for the anonymous."""
    return (user, None) if user is not None else (None, device)


def follow(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """Follow a request ("me too"); returns False when already following.

    Someone who did not report the request counts once as a supporter.
    """
    if not request.service.public:
        raise NotFound(_("We could not find that request."))
    user, device = _as_caller(user, device)
    if user is None and device is None:
        raise DomainError(
            _("Sign in or use this app on your device to follow requests."), status=401
        )
    if _following(request, user.id if user else None, device.id if device else None):
        return False
    _add_follow(request, user, device, supporter=not is_requester(request, user, device))
    request.supporters_count = _count_supporters(request)
    return True


def unfollow(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """Stop following; returns False when there was nothing to stop."""
    user, device = _as_caller(user, device)
    conditions = []
    if user is not None:
        conditions.append(Follow.user_id == user.id)
    if device is not None:
        conditions.append(Follow.device_id == device.id)
    if not conditions:
        return False
    from sqlalchemy import or_

    follows = db.session.scalars(
        select(Follow).where(Follow.request_id == request.id, or_(*conditions))
    ).all()
    for item in follows:
        db.session.delete(item)
    db.session.flush()
    request.supporters_count = _count_supporters(request)
    return bool(follows)


def is_following(
    request: ServiceRequest, *, user: User | None = None, device: Device | None = None
) -> bool:
    """True when the caller (the signed-in user, else the device) follows the request."""
    user, device = _as_caller(user, device)
    return _following(request, user.id if user else None, device.id if device else None)
