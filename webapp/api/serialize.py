"""Public JSON shapes of services and requests. Nothing private ever goes in here:
no contact details, no private notes, no staff names, no device or user ids."""

from __future__ import annotations

import flask
from flask import url_for

from webapp.content_i18n import localized, localized_values, service_names
from webapp.models import Photo, RequestEvent, Service, ServiceAttribute, ServiceRequest, w3c
from webapp.wording import event_label, status_label, status_labels


def attribute_json(attribute: ServiceAttribute) -> dict:
    """An Open311-style attribute definition."""
    return {
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "variable": attribute.variable,
        "order": attribute.order,
        "description": localized(attribute, "description"),
        "datatype_description": localized(attribute, "datatype_description"),
        "values": [
            {"key": str(v.get("key")), "name": v.get("name")} for v in localized_values(attribute)
        ],
    }


def service_json(service: Service) -> dict:
    """A service with its attributes."""
    return {
        "service_code": service.service_code,
        "name": localized(service, "name"),
        "description": localized(service, "description"),
        "group": localized(service, "group"),
        "keywords": service.keyword_list,
        "department": service.department.name if service.department else None,
        "sla_days": service.sla_days,
        "metadata": service.has_metadata,
        "attributes": [attribute_json(a) for a in service.attributes if a.variable],
    }


def photo_json(photo: Photo) -> dict:
    """URLs of a photo's derivatives (served with immutable caching)."""
    return {
        "kind": photo.kind,
        "width": photo.width,
        "height": photo.height,
        "url": url_for("resident.photo", key=photo.display_key, _external=False),
        "thumbnail_url": url_for("resident.photo", key=photo.thumb_key, _external=False),
    }


def event_json(event: RequestEvent) -> dict:
    """A public timeline entry."""
    return {
        "kind": event.kind,
        "label": event_label(event),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "at": w3c(event.created_at),
    }


def request_json(request: ServiceRequest, *, timeline: bool = False) -> dict:
    """The public view of a request; with its public timeline when asked."""
    body = {
        "id": request.public_id,
        "service_code": request.service.service_code,
        "service_name": localized(request.service, "name"),
        "description": request.description,
        "status": request.status,
        "detailed_status": request.detailed_status,
        "status_label": status_label(request),
        "resolution": request.resolution,
        "resolution_note": request.resolution_note,
        "referred_to": request.referred_to,
        "reopened": request.reopened,
        "lat": request.lat,
        "long": request.long,
        "needs_location": request.needs_location,
        "address": request.address,
        "landmark": request.landmark,
        "neighborhood": request.neighborhood.name if request.neighborhood else None,
        "agency_responsible": request.department.name if request.department else None,
        "attributes": request.attribute_values or {},
        "supporters_count": request.supporters_count,
        "duplicate_of": request.duplicate_of.public_id if request.duplicate_of else None,
        "channel": request.channel,
        "requested_datetime": w3c(request.received_at),
        "updated_datetime": w3c(request.updated_at),
        "expected_datetime": w3c(request.expected_at),
        "closed_datetime": w3c(request.closed_at),
        "url": url_for("resident.request_page", public_id=request.public_id),
        "photos": [photo_json(p) for p in request.photos],
    }
    if timeline:
        body["timeline"] = [event_json(e) for e in request.events if e.public]
    return body


_URL_TEMPLATES: dict[str, tuple[list[str], list[str]]] = {}


def _url_templates(script_root: str) -> tuple[list[str], list[str]]:
    """A request page's and a photo's address as (head, tail) around the id or key,
    built once for the path the app is mounted under."""
    found = _URL_TEMPLATES.get(script_root)
    if found is None:
        marker = "0MARKER0"
        found = _URL_TEMPLATES[script_root] = (
            url_for("resident.request_page", public_id=marker).split(marker),
            url_for("resident.photo", key=marker, _external=False).split(marker),
        )
    return found


class RowSerializer:
    """The same public shape as ``request_json`` from the bare rows of a map page.

    Addresses are formatted from URL templates built once, status labels come from the
    per-locale cache, service names in the reader's language from one mapping read per
    response, timestamps arrive formatted by the database, and nothing touches the ORM:
    a page of a hundred rows costs a hundred small dicts.
    """

    def __init__(self) -> None:
        self._label = status_labels()
        self._names = service_names()
        self._request_url, self._photo_url = _url_templates(flask.request.script_root)

    def _photo(self, photo) -> dict:
        head, tail = self._photo_url
        _request_id, kind, width, height, display_key, thumb_key = photo
        return {
            "kind": kind,
            "width": width,
            "height": height,
            "url": f"{head}{display_key}{tail}",
            "thumbnail_url": f"{head}{thumb_key}{tail}",
        }

    def row(self, row, photos: list) -> dict:
        """One request row (see ``mapread.page_columns``) and its photo rows."""
        body = dict(zip(ROW_KEYS, row, strict=True))
        del body["_row_id"]
        head, tail = self._request_url
        body["status_label"] = self._label(body["detailed_status"], body["resolution"],
                                           body["reopened"])
        body["url"] = f"{head}{body['id']}{tail}"
        if self._names:
            body["service_name"] = self._names.get(body["service_code"], body["service_name"])
        body["photos"] = [self._photo(p) for p in photos]
        if body["attributes"] is None:
            body["attributes"] = {}
        return body

    def single(self, row) -> dict:
        """The short shape of a lone request on the map (a marker)."""
        head, tail = self._request_url
        return {
            "id": row.public_id,
            "service_code": row.service_code,
            "service_name": self._names.get(row.service_code, row.name),
            "status_label": self._label(row.detailed_status, row.resolution, row.reopened),
            "requested_datetime": row.requested_datetime,
            "url": f"{head}{row.public_id}{tail}",
        }


# The public names of ``mapread.page_columns()``, in their order.
ROW_KEYS = (
    "_row_id",
    "id",
    "service_code",
    "service_name",
    "description",
    "status",
    "detailed_status",
    "resolution",
    "resolution_note",
    "referred_to",
    "reopened",
    "lat",
    "long",
    "needs_location",
    "address",
    "landmark",
    "neighborhood",
    "agency_responsible",
    "attributes",
    "supporters_count",
    "duplicate_of",
    "channel",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "closed_datetime",
)
