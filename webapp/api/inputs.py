"""The declared input of each /api/v1 operation (pydantic models).

Lengths come from the database columns and the character rules from
``webapp.plumbing.inputs``, so each field is checked once, here, and documented from here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from webapp.api.schema import Input
from webapp.domain.figures.mapread import CURSOR_PATTERN, MAX_ZOOM
from webapp.domain.geo import geocoding
from webapp.domain.intake.desk import STAFF_CHANNELS
from webapp.domain.notifications.notify import MAX_ENDPOINT, OPTIONAL_KINDS
from webapp.models import (
    AnswerTopic,
    Channel,
    Contact,
    PushSubscription,
    Resolution,
    Service,
    ServiceRequest,
    Status,
)
from webapp.plumbing.inputs import (
    LONG_TEXT,
    MAX_PAGE,
    MULTI_LINE_PATTERN,
    InputError,
    Text,
    WholeNumber,
    blank_is_none,
    clean_text,
)

DEFAULT_PAGE_SIZE = 50
DEFAULT_ZOOM = 13
MAX_PAGE_SIZE = 200
PUBLIC_ID_PATH = {"public_id": "Public request id, e.g. 311-000123"}
STATUS_FILTERS = ("open", "closed", *[s.value for s in Status])

# A latitude or longitude written in decimal degrees, within range (a box's corners).
LATITUDE_TEXT = r"-?(?:90(?:\.0{1,15})?|[1-8]?[0-9](?:\.[0-9]{1,15})?)"
LONGITUDE_TEXT = r"-?(?:180(?:\.0{1,15})?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]{1,15})?)"
BBOX_PATTERN = f"^{LONGITUDE_TEXT},{LATITUDE_TEXT},{LONGITUDE_TEXT},{LATITUDE_TEXT}$"
# A coordinate sent as text (a form, or a desk program that sends strings).
DECIMAL_PATTERN = r"^-?[0-9]{1,3}(?:\.[0-9]{1,15})?$"
# Form fields beyond the declared ones (answers to a service's questions).
FORM_EXTRA_NAME = {"pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]+$", "maxLength": 200}
FORM_EXTRA_VALUE = {"type": "string", "maxLength": LONG_TEXT, "pattern": MULTI_LINE_PATTERN}
FORM_EXTRAS = {
    "propertyNames": FORM_EXTRA_NAME,
    "additionalProperties": {
        "anyOf": [FORM_EXTRA_VALUE, {"type": "array", "items": FORM_EXTRA_VALUE}]
    },
}
# The browser's push keys in base64url: a 65-byte uncompressed point (0x04, x, y) and
# a 16-byte secret.
P256DH_PATTERN = r"^B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048]=?$"
AUTH_PATTERN = r"^[A-Za-z0-9_-]{21}[AQgw](?:==)?$"
# Answers to a service's questions, as the text of a JSON object.
ATTRIBUTES_TEXT = {"contentMediaType": "application/json", "pattern": "^\\{"}

PublicId = Text(ServiceRequest.public_id, description="Public request id, e.g. 311-000123")
ServiceCode = Text(Service.service_code)
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
FormNumber = Annotated[float, Field(allow_inf_nan=False)]
OptionalId = Annotated[WholeNumber() | None, BeforeValidator(blank_is_none)]


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


# Up to three photos of a multipart form; one photo arrives as a single value.
Photos = Annotated[
    list[Any],
    BeforeValidator(_as_list),
    Field(
        json_schema_extra={
            "items": {
                "type": "string",
                "format": "binary",
                "description": "A JPEG, PNG or WebP photo (a file part)",
            },
            "maxItems": 3,
        }
    ),
]


def _check_extra_fields(model: Input) -> None:
    """Fields a form may add beyond its declared ones (answers to a service's questions,
    ``attribute[code]``) follow the multi-line text rules; uploads are ignored."""
    for name, value in (model.model_extra or {}).items():
        for item in _as_list(value):
            if not isinstance(item, str):
                continue
            try:
                clean_text(item, max_length=LONG_TEXT, multiline=True)
            except InputError as error:
                raise PydanticCustomError(
                    error.kind, "{name} {message}", {"name": name, "message": error.message}
                ) from None


# --- requests -------------------------------------------------------------------------


class MapFilterQuery(Input):
    """The filters every map read shares: the box, status, service and time."""

    bbox: Text(
        100,
        description="Two opposite corners: minLon,minLat,maxLon,maxLat (in either order)",
        pattern=BBOX_PATTERN,
    ) | None = None
    status: Literal[STATUS_FILTERS] | None = Field(  # type: ignore[valid-type]
        None, description="open, closed, or a detailed status"
    )
    service_code: ServiceCode | None = Field(None, description="Only this service")
    since: Text(
        40,
        description="Only requests received since (a date, or a date and time with its offset)",
        anyOf=[{"format": "date"}, {"format": "date-time"}],
    ) | None = None

    BLANK_IS_ABSENT = ("bbox", "status", "service_code", "since")

    @field_validator("bbox", mode="after")
    @classmethod
    def corners(cls, value: str | None) -> Any:
        if value is None:
            return None
        try:
            min_lon, min_lat, max_lon, max_lat = (float(part) for part in value.split(","))
        except ValueError:
            raise PydanticCustomError(
                "bbox", "must be four numbers: minLon,minLat,maxLon,maxLat"
            ) from None
        if not (min(min_lon, max_lon) >= -180 and max(min_lon, max_lon) <= 180):
            raise PydanticCustomError("bbox", "corners are out of range")
        if not (min(min_lat, max_lat) >= -90 and max(min_lat, max_lat) <= 90):
            raise PydanticCustomError("bbox", "corners are out of range")
        # Any two opposite corners name the same box.
        return (
            min(min_lon, max_lon),
            min(min_lat, max_lat),
            max(min_lon, max_lon),
            max(min_lat, max_lat),
        )


class RequestListQuery(MapFilterQuery):
    """Filters and paging of GET /requests (offset pages, or keyset with ``after``)."""

    page: WholeNumber(1, MAX_PAGE, description="Page number from 1") = 1
    page_size: WholeNumber(1, MAX_PAGE_SIZE, description="1..200 (default 50)") = DEFAULT_PAGE_SIZE
    after: Text(
        40, description="meta.next_after of the previous page", pattern=CURSOR_PATTERN
    ) | None = None

    BLANK_IS_ABSENT = (*MapFilterQuery.BLANK_IS_ABSENT, "after", "page", "page_size")


class ClusterQuery(MapFilterQuery):
    """GET /requests/clusters: the map filters and the zoom level the grid is sized for."""

    zoom: WholeNumber(0, MAX_ZOOM, description="Map zoom level, 0..22 (default 13)") = (
        DEFAULT_ZOOM
    )

    BLANK_IS_ABSENT = (*MapFilterQuery.BLANK_IS_ABSENT, "zoom")


class CreateRequestHeaders(Input):
    """Headers of POST /requests."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    idempotency_key: Text(
        64, description="The outbox item's client_uuid (a UUID)", format="uuid"
    ) = Field(alias="Idempotency-Key")


class CreateRequestForm(Input):
    """The multipart report of POST /requests (``attribute[code]`` fields answer questions)."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra=FORM_EXTRAS,
    )

    service_code: Text(Service.service_code, min_length=1)
    lat: Latitude | None = None
    long: Longitude | None = None
    accuracy: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)] | None = Field(
        None, description="GPS accuracy in metres"
    )
    description: Text(LONG_TEXT, multiline=True) = ""
    landmark: Text(ServiceRequest.landmark) = ""
    address: Text(ServiceRequest.address) = ""
    attributes: Text(
        20_000, multiline=True, description="JSON object of answers", **ATTRIBUTES_TEXT
    ) = ""
    contact_name: Text(ServiceRequest.contact_name) = ""
    contact_email: Text(ServiceRequest.contact_email) = ""
    contact_phone: Text(ServiceRequest.contact_phone) = ""
    notify: Text(8, description="1 to follow the request") | None = None
    community_issue: Text(8, description="Liaisons only: 1 when it is a community issue") | None = (
        None
    )
    captured_at: Text(40, format="date-time") | None = None
    photos: Photos = Field(default_factory=list)

    BLANK_IS_ABSENT = ("lat", "long", "accuracy")

    @model_validator(mode="after")
    def other_fields(self) -> CreateRequestForm:
        """Answers to questions (and any other field) follow the multi-line text rules."""
        _check_extra_fields(self)
        return self


# --- places ---------------------------------------------------------------------------


class GeocodeQuery(Input):
    """GET /geocode."""

    q: Text(geocoding.MAX_QUERY, min_length=1, description="Address or place")
    limit: WholeNumber(1, 10, description="1..10 (default 5)") = 5

    @field_validator("q", mode="before")
    @classmethod
    def stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    BLANK_IS_ABSENT = ("limit",)


class NearbyQuery(Input):
    """GET /requests/nearby."""

    lat: Latitude = Field(description="Latitude")
    long: Longitude = Field(description="Longitude")
    radius: WholeNumber(1, 2000, description="Metres, 1..2000 (default 200)") = 200
    limit: WholeNumber(1, 50, description="1..50 (default 10)") = 10
    service_code: ServiceCode | None = Field(None, description="Only this service")

    BLANK_IS_ABSENT = ("radius", "limit", "service_code")


class FollowForm(Input):
    """Optional multipart body of POST /requests/<id>/follow: a supporter's note and photos.

    Kept on the request's public timeline as a supporter's comment; a plain follow sends
    no body at all.
    """

    comment: Text(LONG_TEXT, multiline=True, description="What the neighbor adds") = ""
    photos: Photos = Field(default_factory=list)
    email: Text(
        ServiceRequest.contact_email,
        description="Where the follower wants the outcome e-mailed (their phone cannot be notified)",
    ) = ""


# --- push -----------------------------------------------------------------------------


class SubscriptionKeys(Input):
    """The browser's encryption keys."""

    p256dh: Text(
        PushSubscription.p256dh,
        description="base64url P-256 public point (65 bytes, uncompressed)",
        pattern=P256DH_PATTERN,
        format="webpush-p256dh",
    )
    auth: Text(PushSubscription.auth, description="base64url 16-byte secret", pattern=AUTH_PATTERN)


class SubscribeBody(Input):
    """POST /push/subscriptions."""

    endpoint: Text(MAX_ENDPOINT, format="uri")
    keys: SubscriptionKeys
    request: PublicId | None = Field(None, description="Also follow this request (public id)")
    old_endpoint: Text(MAX_ENDPOINT, description="A rotated subscription to replace") | None = None
    expirationTime: WholeNumber(0, 2**53) | None = Field(  # noqa: N815 - the browser's own name
        None, description="As PushSubscription.toJSON() sends it; not stored"
    )


class UnsubscribeBody(Input):
    """DELETE /push/subscriptions."""

    endpoint: Text(MAX_ENDPOINT, min_length=1)


Preferences = dict[Literal[OPTIONAL_KINDS], StrictBool]  # type: ignore[valid-type]


class PreferencesBody(Input):
    """PUT /push/preferences: ``{"preferences": {...}}`` or the choices themselves."""

    preferences: Preferences | None = None
    acknowledged: StrictBool | None = None
    in_progress: StrictBool | None = None
    reopened: StrictBool | None = None
    merged: StrictBool | None = None

    def changes(self) -> dict[str, bool]:
        """The choices that were sent."""
        if self.preferences is not None:
            return dict(self.preferences)
        return {
            kind: getattr(self, kind) for kind in OPTIONAL_KINDS if getattr(self, kind) is not None
        }


# --- staff ----------------------------------------------------------------------------


class TransitionBody(Input):
    """Staff: move a request along the workflow."""

    status: Literal[tuple(s.value for s in Status)]  # type: ignore[valid-type]
    note: Text(LONG_TEXT, multiline=True, description="Public note; required to close") | None = (
        None
    )
    resolution: Literal[tuple(r.value for r in Resolution)] | None = None  # type: ignore[valid-type]
    referred_to: Text(ServiceRequest.referred_to) | None = None
    duplicate_of: PublicId | None = None

    BLANK_IS_ABSENT = ("resolution", "referred_to", "duplicate_of")


class AssignBody(Input):
    """Staff: assign to a department and/or a person."""

    department_id: OptionalId = None
    assignee_id: OptionalId = None


class NoteBody(Input):
    """Staff: add a public or private note."""

    note: Text(LONG_TEXT, multiline=True)
    public: bool = False


class MergeBody(Input):
    """Staff: merge this request into another."""

    survivor: PublicId
    note: Text(LONG_TEXT, multiline=True) | None = None


class StaffLogHeaders(Input):
    """Headers of POST /staff/requests."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    idempotency_key: (
        Text(64, description="A UUID; a retried call returns the original request", format="uuid")
        | None
    ) = Field(None, alias="Idempotency-Key")


class StaffLogBody(Input):
    """POST /staff/requests: a request logged for a caller (JSON).

    ``lat``/``long`` may be numbers or their decimal text; anything else is refused
    like any other wrong field (422). The caller's contact fields are private.
    """

    channel: Literal[tuple(str(c) for c in STAFF_CHANNELS)] = Field(  # type: ignore[valid-type]
        description="How the caller reached the city"
    )
    service_code: Text(Service.service_code, min_length=1)
    lat: StrictFloat | Text(40, pattern=DECIMAL_PATTERN) | None = Field(
        None, description="Latitude (a number, or its decimal text)"
    )
    long: StrictFloat | Text(40, pattern=DECIMAL_PATTERN) | None = Field(
        None, description="Longitude (a number, or its decimal text)"
    )
    address: Text(ServiceRequest.address) | None = None
    landmark: Text(ServiceRequest.landmark) | None = None
    description: Text(LONG_TEXT, multiline=True) | None = None
    attributes: dict[str, Any] | Text(20_000, multiline=True, **ATTRIBUTES_TEXT) | None = Field(
        None, description="Answers to the service's questions: a JSON object (as text in a form)"
    )
    caller_name: Text(ServiceRequest.contact_name) | None = None
    caller_email: Text(ServiceRequest.contact_email) | None = None
    caller_phone: Text(ServiceRequest.contact_phone) | None = None
    caller_address: Text(Contact.caller_address) | None = None
    confirm_by_email: StrictBool | Text(8) | None = Field(
        None, description="E-mail the number and tracking link (true, or 1/yes/on in a form)"
    )


class StaffLogForm(StaffLogBody):
    """POST /staff/requests as multipart: ``attribute[code]`` fields and up to 3 ``photos``."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra=FORM_EXTRAS,
    )

    # A form carries every number as its text ("1e-05" too).
    lat: FormNumber | Text(40, pattern=DECIMAL_PATTERN) | None = Field(
        None, description="Latitude (a number, or its decimal text)"
    )
    long: FormNumber | Text(40, pattern=DECIMAL_PATTERN) | None = Field(
        None, description="Longitude (a number, or its decimal text)"
    )
    photos: Photos = Field(default_factory=list)

    @model_validator(mode="after")
    def other_fields(self) -> StaffLogForm:
        """Answers to questions (``attribute[code]``) follow the multi-line text rules."""
        _check_extra_fields(self)
        return self


# --- knowledge answers ----------------------------------------------------------------

ANSWER_SLUG_PATH = {"slug": "The answer's address, e.g. bulky-item-pickup"}


class AnswerSearchQuery(Input):
    """GET /answers: full-text search, or the answers of a service or topic; all without."""

    q: Text(200, description="Words to search for (all words first, else any word)") | None = None
    service_code: ServiceCode | None = Field(None, description="Only answers of this service")
    topic: Text(AnswerTopic.topic) | None = Field(None, description="Only answers of this topic")
    locale: Text(16) | None = Field(
        None,
        description="Language of the answers (e.g. es); without it, the caller's "
        "(Accept-Language). English where an answer has no text in that language.",
    )

    BLANK_IS_ABSENT = ("q", "service_code", "topic", "locale")


class ResolvedBody(Input):
    """POST /answers/<slug>/resolved (optional body): what the resident was reporting."""

    service_code: ServiceCode | None = Field(None, description="The service they looked at")
    channel: Literal[(str(Channel.PWA), str(Channel.WEB))] = "pwa"  # type: ignore[valid-type]

    BLANK_IS_ABSENT = ("service_code",)
