"""The documented shape of each /api/v1 answer (pydantic models, ``{data, meta}``).

They document ``/api/v1/openapi.json`` and, under test, every answer is checked
against them (unknown fields refused), so the document says exactly what is sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Shape(BaseModel):
    """A documented JSON object: every field listed, nothing else."""

    model_config = ConfigDict(extra="forbid")


class AttributeValue(Shape):
    key: str
    name: str | None


class AttributeOut(Shape):
    code: str
    datatype: str
    required: bool
    variable: bool
    order: int
    description: str
    datatype_description: str
    values: list[AttributeValue]


class ServiceOut(Shape):
    service_code: str
    name: str
    description: str
    group: str
    keywords: list[str]
    department: str | None
    sla_days: int | None
    metadata: bool
    attributes: list[AttributeOut]


class PhotoOut(Shape):
    kind: str
    width: int
    height: int
    url: str
    thumbnail_url: str


class EventOut(Shape):
    kind: str
    label: str
    from_status: str | None
    to_status: str | None
    note: str | None
    at: str | None


class RequestOut(Shape):
    """The public view of a request (no contact details, no private notes)."""

    id: str
    service_code: str
    service_name: str
    description: str
    status: str
    detailed_status: str
    status_label: str
    resolution: str | None
    resolution_note: str | None
    referred_to: str | None
    reopened: bool
    lat: float | None
    long: float | None
    needs_location: bool
    address: str | None
    landmark: str | None
    neighborhood: str | None
    agency_responsible: str | None
    attributes: dict[str, Any]
    supporters_count: int
    duplicate_of: str | None
    channel: str
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    closed_datetime: str | None
    url: str
    photos: list[PhotoOut]
    timeline: list[EventOut] | None = None


class NearbyRequestOut(RequestOut):
    distance_m: float


class StaffEventOut(Shape):
    kind: str
    public: bool
    from_status: str | None
    to_status: str | None
    note: str | None
    actor: str | None
    at: str | None


class StaffRequestOut(RequestOut):
    """What staff see: the public view plus assignment, contact and the whole timeline."""

    assignee: str | None
    department_id: int | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    reopen_count: int
    timeline: list[StaffEventOut]


class Place(Shape):
    label: str
    lat: float
    long: float


class FollowState(Shape):
    following: bool
    supporters_count: int


class PublicKey(Shape):
    public_key: str


class Preferences(Shape):
    preferences: dict[str, bool]


class SubscriptionOut(Shape):
    endpoint: str
    following: str | None
    preferences: dict[str, bool]


class Deleted(Shape):
    deleted: bool


class AnswerOut(Shape):
    """A published knowledge answer: Markdown body and its sanitized HTML."""

    slug: str
    title: str
    summary: str
    body: str
    html: str
    service_codes: list[str]
    topics: list[str]
    url: str
    updated_at: str


class Resolved(Shape):
    recorded: bool
    answer: str
    channel: str


class ClusterMarker(Shape):
    """A lone request on the map: enough for its marker and its link."""

    id: str
    service_code: str
    service_name: str
    status_label: str
    requested_datetime: str | None
    url: str


class ClusterOut(Shape):
    """One grid cell of the map: its centre, how many requests, the request when alone."""

    lat: float
    long: float
    count: int
    request: ClusterMarker | None


class Envelope(BaseModel):
    """``{"data": ..., "meta": {...}}``: every API success."""

    data: Any
    meta: dict[str, Any]


def enveloped(name: str, data: Any) -> type[BaseModel]:
    """An envelope model named ``name`` whose ``data`` is ``data``."""
    return type(
        name,
        (Envelope,),
        {"__annotations__": {"data": data}, "__doc__": f"{{data, meta}} with {name}."},
    )


ServiceList = enveloped("ServiceList", list[ServiceOut])
RequestList = enveloped("RequestList", list[RequestOut])
RequestOne = enveloped("RequestOne", RequestOut)
NearbyList = enveloped("NearbyList", list[NearbyRequestOut])
PlaceList = enveloped("PlaceList", list[Place])
FollowAnswer = enveloped("FollowAnswer", FollowState)
PublicKeyAnswer = enveloped("PublicKeyAnswer", PublicKey)
PreferencesAnswer = enveloped("PreferencesAnswer", Preferences)
SubscriptionAnswer = enveloped("SubscriptionAnswer", SubscriptionOut)
DeletedAnswer = enveloped("DeletedAnswer", Deleted)
StaffRequestAnswer = enveloped("StaffRequestAnswer", StaffRequestOut)
AnswerList = enveloped("AnswerList", list[AnswerOut])
AnswerOne = enveloped("AnswerOne", AnswerOut)
ResolvedAnswer = enveloped("ResolvedAnswer", Resolved)
ClusterList = enveloped("ClusterList", list[ClusterOut])
