"""The data model, in Open311 vocabulary (see docs/architecture.md).

Tables are created only by Alembic migrations. Timestamps are stored as UTC and
always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.plumbing.extensions import db


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def w3c(value: datetime | None) -> str | None:
    """A W3C / ISO 8601 datetime with its offset (``2024-05-01T12:00:00+00:00``), or None."""
    return value.isoformat(timespec="seconds") if value else None


class UTCDateTime(TypeDecorator):
    """A DateTime stored as naive UTC and returned as aware UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Convert aware datetimes to naive UTC before they reach the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use webapp.models.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """Mark values read back from the database as UTC."""
        return value.replace(tzinfo=UTC) if value is not None else None


class Role(enum.StrEnum):
    """What a signed-in person may do; each role includes the powers of those before it."""

    RESIDENT = "resident"
    LIAISON = "liaison"
    STAFF = "staff"
    ADMIN = "admin"


class Status(enum.StrEnum):
    """Detailed status of a request; Open311's ``status`` is ``closed`` only for CLOSED."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Resolution(enum.StrEnum):
    """Why a request was closed."""

    FIXED = "fixed"
    DUPLICATE = "duplicate"
    REFERRED = "referred"
    CANNOT_LOCATE = "cannot_locate"
    NO_ACTION_NEEDED = "no_action_needed"


class Channel(enum.StrEnum):
    """How a request reached the city."""

    PWA = "pwa"
    WEB = "web"
    LIAISON = "liaison"
    OPEN311 = "open311"
    PHONE = "phone"
    WALK_IN = "walk_in"
    EMAIL = "email"
    CHAT = "chat"
    # A text message (SMS/MMS) conversation with the city's number.
    TEXT = "text"


class EventKind(enum.StrEnum):
    """The kinds of entry on a request's timeline."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    PUBLIC_NOTE = "public_note"
    PRIVATE_NOTE = "private_note"
    MERGED = "merged"
    REOPENED = "reopened"
    SURVEY_ANSWERED = "survey_answered"
    CONFIRMED_FIXED = "confirmed_fixed"
    SUPPORTER_COMMENT = "supporter_comment"
    INFO_REQUESTED = "info_requested"
    INFO_PROVIDED = "info_provided"


class PhotoKind(enum.StrEnum):
    """Which moment a photo shows."""

    REPORT = "report"
    CLOSURE = "closure"
    REOPEN = "reopen"
    SUPPORTER = "supporter"
    COMMENT = "comment"


class GeocodeState(enum.StrEnum):
    """Where a request stands with reverse geocoding (done after commit, never inline)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    NOT_NEEDED = "not_needed"


ROLE_RANK = {Role.RESIDENT: 0, Role.LIAISON: 1, Role.STAFF: 2, Role.ADMIN: 3}


class User(UserMixin, db.Model):
    """A person with an account: resident, neighborhood liaison, city staff or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.RESIDENT, index=True)
    neighborhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighborhoods.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Staff alerts: a supervisor hears when their department's requests go overdue;
    # alerts come by e-mail or push, held back during quiet hours ("22:00-07:00").
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    alert_channel: Mapped[str] = mapped_column(String(8), default="email", server_default="email")
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    # Raised on sign-out and password change: sessions made under an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    neighborhood: Mapped[Neighborhood | None] = relationship()
    department: Mapped[Department | None] = relationship()

    def get_id(self) -> str:
        """What the session remembers: the id and the session version (``"7:2"``)."""
        return f"{self.id}:{self.session_version or 0}"

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        """Deactivated accounts cannot sign in."""
        return self.active

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of ``roles`` (admins hold every role)."""
        return self.role == Role.ADMIN or self.role in roles

    @property
    def is_staff(self) -> bool:
        """Staff and admins work the queue."""
        return self.role in (Role.STAFF, Role.ADMIN)


class Device(db.Model):
    """An anonymous resident's phone or browser, known by a random token it keeps.

    Only the token's SHA-256 is stored. Signing in links the device to the user, who
    then sees the device's requests on every device.
    """

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    notify_prefs: Mapped[dict] = mapped_column(JSON, default=dict)
    # The language its reader chose here (the switcher); notifications use it.
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class Department(db.Model):
    """A city department; its name is Open311's ``agency_responsible``."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))


class Service(db.Model):
    """An Open311 service: a kind of request a resident can make ("Pothole")."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sla_days: Mapped[int | None] = mapped_column(Integer)
    # The target's unit: "days" (calendar), "business_days" (sla_days) or
    # "business_hours" (sla_hours); see webapp.domain.service_levels.
    sla_unit: Mapped[str] = mapped_column(String(16), default="days", server_default="days")
    sla_hours: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Other languages' values: {"es": {"name": ..., "description": ..., "group": ...}}.
    translations: Mapped[dict | None] = mapped_column(JSON)

    department: Mapped[Department | None] = relationship()
    attributes: Mapped[list[ServiceAttribute]] = relationship(
        back_populates="service",
        order_by="ServiceAttribute.order",
        cascade="all, delete-orphan",
    )

    @property
    def keyword_list(self) -> list[str]:
        """The comma-separated ``keywords`` as a clean list."""
        return [k.strip() for k in self.keywords.split(",") if k.strip()]

    @property
    def has_metadata(self) -> bool:
        """Open311 ``metadata``: true when the service asks extra questions."""
        return bool(self.attributes)


class ServiceAttribute(db.Model):
    """An extra question a service asks (Open311 service definition attribute)."""

    __tablename__ = "service_attributes"
    __table_args__ = (UniqueConstraint("service_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    datatype: Mapped[str] = mapped_column(String(20), default="string")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    variable: Mapped[bool] = mapped_column(Boolean, default=True)
    order: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    datatype_description: Mapped[str] = mapped_column(Text, default="")
    values: Mapped[list] = mapped_column(JSON, default=list)
    # {"es": {"description": ..., "datatype_description": ..., "values": {key: name}}}.
    translations: Mapped[dict | None] = mapped_column(JSON)

    service: Mapped[Service] = relationship(back_populates="attributes")


class Neighborhood(db.Model):
    """A named area of the city with its polygon as GeoJSON and a bounding box."""

    __tablename__ = "neighborhoods"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    geojson: Mapped[dict] = mapped_column(JSON)
    min_lat: Mapped[float] = mapped_column(Float)
    min_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)


class ServiceRequest(db.Model):
    """One report of a problem: what, where, who, and where it stands."""

    __tablename__ = "service_requests"
    __table_args__ = (
        Index("ix_service_requests_lat_long", "lat", "long"),
        Index("ix_service_requests_status_received", "detailed_status", "received_at"),
        Index("ix_service_requests_status_expected", "detailed_status", "expected_at"),
        Index("ix_service_requests_service_received", "service_id", "received_at"),
        Index("ix_service_requests_neighborhood_status", "neighborhood_id", "detailed_status"),
        Index("ix_service_requests_import_remote", "import_source", "remote_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), active_history=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Old coordinates and statuses are kept on change for the map grid counts.
    lat: Mapped[float | None] = mapped_column(Float, active_history=True)
    long: Mapped[float | None] = mapped_column(Float, active_history=True)
    needs_location: Mapped[bool] = mapped_column(Boolean, default=False)
    location_accuracy_m: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(255))
    landmark: Mapped[str | None] = mapped_column(String(255))
    zipcode: Mapped[str | None] = mapped_column(String(12))
    geocode_state: Mapped[str] = mapped_column(String(12), default=GeocodeState.PENDING)
    geocode_attempts: Mapped[int] = mapped_column(Integer, default=0)

    status: Mapped[str] = mapped_column(
        String(8), default="open", index=True, active_history=True
    )
    detailed_status: Mapped[str] = mapped_column(
        String(16), default=Status.SUBMITTED, active_history=True
    )
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(255))
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, active_history=True)

    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default=Channel.PWA, active_history=True)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    community_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language the reporter used (set on insert by webapp.i18n), shown to staff.
    locale: Mapped[str | None] = mapped_column(String(16))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    payload_fingerprint: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    supporters_count: Mapped[int] = mapped_column(Integer, default=0)
    attribute_values: Mapped[dict] = mapped_column(JSON, default=dict)
    neighborhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighborhoods.id"))
    # Requests brought over from the city's old system: where from, and its own id there
    # (unique together, so an import never inserts one twice).
    import_source: Mapped[str | None] = mapped_column(String(40))
    remote_id: Mapped[str | None] = mapped_column(String(120))

    device_captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True, active_history=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The old values of the fields the public rollups count are kept on change.
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    # Set while the city waits on the resident ("needs information"): the clock stands.
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The due time the supervisors were last told this request missed (escalated once).
    overdue_alerted_for: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    department: Mapped[Department | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])
    device: Mapped[Device | None] = relationship()
    neighborhood: Mapped[Neighborhood | None] = relationship()
    duplicate_of: Mapped[ServiceRequest | None] = relationship(remote_side=[id])
    photos: Mapped[list[Photo]] = relationship(
        back_populates="request", order_by="Photo.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_closed(self) -> bool:
        """True once staff closed the request (Open311 ``status=closed``)."""
        return self.detailed_status == Status.CLOSED


class Photo(db.Model):
    """A sanitized photo of a request, stored by content hash as two derivatives."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_events.id"))
    kind: Mapped[str] = mapped_column(String(10), default=PhotoKind.REPORT)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    display_key: Mapped[str] = mapped_column(String(120))
    thumb_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="photos")


class RequestEvent(db.Model):
    """One entry on a request's timeline; private entries never leave staff views."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request_created", "request_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Follow(db.Model):
    """Someone (a user or an anonymous device) who wants news of a request.

    A follow by anyone other than the requester also counts as a "me too" supporter.
    """

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("request_id", "user_id"),
        UniqueConstraint("request_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    supporter: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where a follower whose phone cannot be notified asked for the outcome by e-mail.
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ServiceRequest] = relationship()


class PushSubscription(db.Model):
    """A browser's Web Push subscription, tied to a user or an anonymous device."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(255))
    auth: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)


class StaffAction(db.Model):
    """One action a crew member queued on their phone, recorded once by its idempotency
    key with its outcome ("applied" or "conflict" and why), so a resend is answered the
    same and never applied twice."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_events.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationOutbox(db.Model):
    """A message (push or e-mail, by ``channel``) waiting to be delivered, written with the
    change that caused it; once delivered or given up on, it is the delivery log."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "state", "next_attempt_at"),
        Index("ix_notification_outbox_request", "request_id"),
        Index("ix_notification_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="SET NULL")
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_events.id"))
    payload: Mapped[dict] = mapped_column(JSON)
    topic: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    ttl_seconds: Mapped[int] = mapped_column(Integer, default=4 * 24 * 3600)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8), default="push", server_default="push")
    email_to: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str | None] = mapped_column(String(20))
    # The X-Request-ID of the web request whose change queued this message (for logs).
    http_request_id: Mapped[str | None] = mapped_column(String(64))
    # The worker holding the row while it is ``sending`` (its lease is next_attempt_at).
    claim_token: Mapped[str | None] = mapped_column(String(40))
    # An e-mail's Message-ID, fixed before its first send so a resend carries the same.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # A text message's number (E.164, channel "text").
    phone: Mapped[str | None] = mapped_column(String(40))


class ApiKey(db.Model):
    """An Open311 client key. Only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()

    @property
    def revoked(self) -> bool:
        """A revoked key is refused by Open311 POST."""
        return self.revoked_at is not None


class ResponseTemplate(db.Model):
    """A canned public note staff can start from, per service and target status."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    status: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # {"es": {"title": ..., "body": ...}}.
    translations: Mapped[dict | None] = mapped_column(JSON)


class CityBoundary(db.Model):
    """The city limits as GeoJSON; one row. Reports outside it are refused."""

    __tablename__ = "city_boundary"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    geojson: Mapped[dict] = mapped_column(JSON)


# One front door: contacts, knowledge answers, routing rules and e-mail intake.


class ContactKind(enum.StrEnum):
    """What a contact with a resident was about."""

    REQUEST = "request"
    INFORMATION = "information"
    SELF_SERVICE = "self_service"
    COMMENT = "comment"
    TRIAGE = "triage"
    SUPPORTER = "supporter"


class Contact(db.Model):
    """One interaction with a resident, whichever door they came through.

    A request created from any channel, an information-only call, an e-mail, a walk-in,
    a knowledge answer that resolved a question. The caller's name, e-mail, phone and
    address are private: they never leave staff views.
    """

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_channel_created", "channel", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16), default=ContactKind.REQUEST)
    topic: Mapped[str | None] = mapped_column(String(80))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    caller_name: Mapped[str | None] = mapped_column(String(120), index=True)
    caller_email: Mapped[str | None] = mapped_column(String(254), index=True)
    caller_phone: Mapped[str | None] = mapped_column(String(40), index=True)
    caller_address: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    service: Mapped[Service | None] = relationship()
    answer: Mapped[Answer | None] = relationship()
    request: Mapped[ServiceRequest | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])


class AnswerService(db.Model):
    """An answer shown with a service ("Before you report…")."""

    __tablename__ = "answer_services"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AnswerTopic(db.Model):
    """A general topic an answer belongs to (trash days, permits, who to call…)."""

    __tablename__ = "answer_topics"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class Answer(db.Model):
    """A knowledge answer: plain-language Markdown that residents and call-takers read.

    Searched with each database's own full-text engine (SQLite FTS5, PostgreSQL
    tsvector + GIN), in English and in Spanish; the index is created and kept in step
    by the migrations.
    """

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Other languages' title, summary, keywords and body (see webapp.content_i18n).
    translations: Mapped[dict | None] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(
        secondary="answer_services", order_by="Service.name"
    )
    topic_rows: Mapped[list[AnswerTopic]] = relationship(
        cascade="all, delete-orphan", order_by="AnswerTopic.topic"
    )

    @property
    def topics(self) -> list[str]:
        """The answer's general topics."""
        return [row.topic for row in self.topic_rows]


class RoutingRule(db.Model):
    """An ordered rule: requests of a service in an area go to a department (and person).

    Empty service or area means "any". The first matching rule by ``position`` wins.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    neighborhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighborhoods.id", ondelete="CASCADE")
    )
    area_geojson: Mapped[dict | None] = mapped_column(JSON)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    service: Mapped[Service | None] = relationship()
    neighborhood: Mapped[Neighborhood | None] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[User | None] = relationship()


class InboundMail(db.Model):
    """One e-mail read from the city's mailbox; its Message-ID is never handled twice."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    sender: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    photo_keys: Mapped[list] = mapped_column(JSON, default=list)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    triaged: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    request: Mapped[ServiceRequest | None] = relationship()


class MailboxPoll(db.Model):
    """The state of the e-mail intake: one row, shown to admins."""

    __tablename__ = "mailbox_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)


# Forwarding to the city's own Open311 CRM.


class ForwardTarget(db.Model):
    """The city's own Open311 CRM that a department's (or a service's) requests go to.

    A service's own target wins over its department's. ``api_key`` is the key the
    CRM issued to this server; it never leaves admin views.
    """

    __tablename__ = "forward_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id"), unique=True
    )
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), unique=True)
    endpoint: Mapped[str] = mapped_column(String(500))
    jurisdiction_id: Mapped[str | None] = mapped_column(String(120))
    api_key: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updates_pulled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    service: Mapped[Service | None] = relationship()


class ForwardState(enum.StrEnum):
    """Where a request stands with the city's CRM."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"


class Forwarding(db.Model):
    """One request's journey to the city's CRM: queued, sent once, its external id.

    The row is written in the same transaction as the request, so a request is never
    lost between the two systems; ``request_id`` is UNIQUE, so it is queued once.
    """

    __tablename__ = "forwardings"
    __table_args__ = (Index("ix_forwardings_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), unique=True
    )
    target_id: Mapped[int] = mapped_column(ForeignKey("forward_targets.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    state: Mapped[str] = mapped_column(String(10), default=ForwardState.PENDING)
    external_id: Mapped[str | None] = mapped_column(String(120), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The CRM's own updated_datetime last applied (never compared with our clock).
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A CRM that makes requests later answers with a token to look the id up by.
    token: Mapped[str | None] = mapped_column(String(120))
    # An attempt may have reached the CRM without an answer: look before sending again.
    lookup_needed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The X-Request-ID of the web request that queued it, sent on to the city's CRM.
    http_request_id: Mapped[str | None] = mapped_column(String(64))

    request: Mapped[ServiceRequest] = relationship()
    target: Mapped[ForwardTarget] = relationship()


class ForwardedUpdate(db.Model):
    """A resident's word on a forwarded request (a public note, a reopening) on its way
    to the city's CRM as a ``servicerequestupdates`` POST; written with the event."""

    __tablename__ = "forwarded_updates"
    __table_args__ = (Index("ix_forwarded_updates_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("request_events.id", ondelete="CASCADE"), unique=True
    )
    forwarding_id: Mapped[int] = mapped_column(
        ForeignKey("forwardings.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=ForwardState.PENDING)
    external_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[RequestEvent] = relationship()
    forwarding: Mapped[Forwarding] = relationship()


# E-mail to residents: addresses, opt-outs, used links, proven addresses, area alerts.


class EmailAddress(db.Model):
    """What we know about one e-mail address: a permanent bounce (and why) or a
    "stop all e-mail" request. Addresses are stored lower-cased."""

    __tablename__ = "email_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailOptOut(db.Model):
    """An address that asked for no more e-mail about one request."""

    __tablename__ = "email_opt_outs"
    __table_args__ = (UniqueConstraint("address", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsedLink(db.Model):
    """A single-use e-mail link that was used; its id's UNIQUE constraint decides races."""

    __tablename__ = "used_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[str] = mapped_column(String(40), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceEmail(db.Model):
    """An e-mail address a device proved it controls (it followed a sign-in link), so
    it may see and act on the requests sent with that address."""

    __tablename__ = "device_emails"
    __table_args__ = (UniqueConstraint("device_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254), index=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AreaAlert(db.Model):
    """"E-mail me about new reports near here / in my neighborhood": a circle or a
    neighborhood, sent at once or as a daily digest; active once the address confirmed."""

    __tablename__ = "area_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), index=True)
    neighborhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighborhoods.id", ondelete="CASCADE")
    )
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(10), default="immediate")
    locale: Mapped[str | None] = mapped_column(String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    neighborhood: Mapped[Neighborhood | None] = relationship()


# Indexes the migrations create outside the models: SQLite's R*Tree (a virtual table and
# its shadow tables), PostgreSQL's GiST indexes on point(long, lat) and its index on
# received_at carrying the columns a map read needs (INCLUDE, PostgreSQL only).
SPATIAL_INDEX_NAMES = (
    "service_requests_rtree",
    "ix_service_requests_point",
    "ix_service_requests_open_point",
    "ix_service_requests_received_carrying",
)


def include_in_autogenerate(name, type_, parent_names) -> bool:
    """Alembic filter: leave the spatial indexes out of model-vs-database comparisons."""
    return not (name or "").startswith(SPATIAL_INDEX_NAMES)


class RequestRollup(db.Model):
    """Daily counts per service and channel, kept as requests change (see domain.rollups).

    ``received`` and ``reopened`` count by the day a request arrived; ``closed``,
    ``closed_with_sla`` and ``closed_on_time`` by the day it was closed. Days are in
    the city's time zone.
    """

    __tablename__ = "request_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_with_sla: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)


class CloseDurationRollup(db.Model):
    """How long closed requests took, in half-day steps, per close day and service:
    enough to find a median over any window without reading the requests."""

    __tablename__ = "close_duration_rollups"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    half_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RequestMonthRollup(db.Model):
    """The daily counts of ``request_rollups`` summed per calendar month (the 1st names
    it): "this month" and "the last 12 months" read twelve rows per service and channel
    whatever the length of the city's history."""

    __tablename__ = "request_month_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_with_sla: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)


class RequestWeekRollup(db.Model):
    """The daily counts summed per ISO week (Monday names it), all channels together:
    the week-by-week charts of /stats."""

    __tablename__ = "request_week_rollups"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    received: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_with_sla: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)


class CloseDurationMonthRollup(db.Model):
    """The close-time histogram (half-day steps) per month the requests closed in."""

    __tablename__ = "close_duration_month_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    half_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CloseDurationWeekRollup(db.Model):
    """The close-time histogram (half-day steps) per ISO week the requests closed in."""

    __tablename__ = "close_duration_week_rollups"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    half_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class MapCellRollup(db.Model):
    """Requests per map grid cell, service and status (see domain.map_grid).

    ``cell_x``/``cell_y`` index the cluster grid of zoom ``level`` (longitude and
    latitude shifted by 180 and 90 so they are never negative); the sums of latitude,
    longitude and request id give a cluster's middle and, for a lone request, its id.
    """

    __tablename__ = "map_cell_rollups"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(8), primary_key=True)
    detailed_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    sum_lat: Mapped[float] = mapped_column(Float, default=0.0)
    sum_long: Mapped[float] = mapped_column(Float, default=0.0)
    sum_id: Mapped[int] = mapped_column(BigInteger, default=0)


class WorkerHeartbeat(db.Model):
    """The last round of one worker loop on one machine, so a silent worker shows.

    Stamped after every round by the embedded worker thread and by the standalone
    worker commands; ``/metrics`` reports each stamp.
    """

    __tablename__ = "worker_heartbeats"
    __table_args__ = (UniqueConstraint("worker", "host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(40))
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int] = mapped_column(Integer)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CitySettings(db.Model):
    """What the city pack set (one row): name, jurisdiction, colours, tiles, hours...;
    ``fingerprint`` is the pack's content hash, so applying it again changes nothing."""

    __tablename__ = "city_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportRun(db.Model):
    """How far one import of old requests got (by source), so a rerun resumes there."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[str | None] = mapped_column(String(200))
    imported: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), default="running")
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatStatus(enum.StrEnum):
    """Where a live chat stands."""

    WAITING = "waiting"  # the resident wrote; no call-taker has taken it yet
    ACTIVE = "active"  # a call-taker took it and answers live
    MESSAGE = "message"  # written outside desk hours: answered later by e-mail
    CLOSED = "closed"


class ChatAuthor(enum.StrEnum):
    """Who wrote one chat line."""

    RESIDENT = "resident"
    STAFF = "staff"
    SYSTEM = "system"


class Chat(db.Model):
    """A live chat between a resident and a call-taker (or a message left out of hours).

    ``key`` is the chat's unguessable public id; the resident's browser holds it in its
    signed session. The transcript is also kept as a contact (``contact_id``) on the
    resident's record, channel ``chat``.
    """

    __tablename__ = "chats"
    __table_args__ = (Index("ix_chats_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=ChatStatus.WAITING)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    started_from: Mapped[str] = mapped_column(String(20), default="help")
    service_code: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL")
    )
    resident_name: Mapped[str | None] = mapped_column(String(120))
    resident_email: Mapped[str | None] = mapped_column(String(254))
    resident_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    request: Mapped[ServiceRequest | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    messages: Mapped[list[ChatMessage]] = relationship(
        back_populates="chat", order_by="ChatMessage.id", cascade="all, delete-orphan"
    )


class ChatMessage(db.Model):
    """One line of a chat, stored before anyone is told of it (the id orders the chat)."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_chat_id_id", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(10))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    chat: Mapped[Chat] = relationship(back_populates="messages")
# Text messages (SMS/MMS): the numbers that wrote to the city and every message.


class TextNumber(db.Model):
    """A phone number that texted the city: whether it said STOP, its language, and where
    its conversation stands (``step`` and ``draft``; an idle one expires)."""

    __tablename__ = "text_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(40), unique=True)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str | None] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(16))
    draft: Mapped[dict] = mapped_column(JSON, default=dict)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextMessage(db.Model):
    """One text message in or out. An inbound one is handled once, by the provider's
    message id (UNIQUE); its reply is kept so a replayed webhook gets the same answer
    and sets nothing off twice."""

    __tablename__ = "text_messages"
    __table_args__ = (Index("ix_text_messages_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    body: Mapped[str] = mapped_column(Text, default="")
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reply: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
