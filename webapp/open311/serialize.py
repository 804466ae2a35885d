"""GeoReport v2 shapes of services and requests, as plain values for ``render.respond``.

Field names and order follow the spec. Nothing private goes in: no contact details,
no private notes, no staff or requester identities.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from webapp.content_i18n import localized, localized_values
from webapp.domain.open311 import open311_statuses
from webapp.models import Photo, Service, ServiceAttribute, w3c
from webapp.open311.queries import RequestPage


def service_entry(service: Service) -> dict:
    """One ``<service>`` of ``GET services``."""
    return {
        "service_code": service.service_code,
        "service_name": localized(service, "name"),
        "description": localized(service, "description"),
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join(service.keyword_list),
        "group": localized(service, "group"),
    }


def attribute_entry(attribute: ServiceAttribute) -> dict:
    """One ``<attribute>`` of a service definition."""
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": localized(attribute, "datatype_description") or None,
        "order": attribute.order,
        "description": localized(attribute, "description"),
        "values": [
            {"key": str(value.get("key")), "name": value.get("name")}
            for value in localized_values(attribute)
        ],
    }


def service_definition(service: Service) -> dict:
    """The ``<service_definition>`` of one service: its attributes in order."""
    return {
        "service_code": service.service_code,
        "attributes": [attribute_entry(a) for a in service.attributes],
    }


def notice_template() -> str:
    """The translated ``service_notice`` sentence, with a ``%(date)s`` slot.

    Translated once per answer rather than once per row: a page has 1,000 rows.
    """
    return _("The city aims to deal with this by %(date)s.")


def service_notice(
    expected_datetime: str | None, status: str, template: str | None = None
) -> str | None:
    """What the city expects to do, from the SLA date (its W3C text, as the answers carry
    it), while the request is open."""
    if status != "open" or not expected_datetime:
        return None
    return (template or notice_template()) % {"date": expected_datetime[:10]}


def photo_url(key: str) -> str:
    """The absolute URL of a stored photo derivative."""
    return url_for("resident.photo", key=key, _external=True)


def _photo_entry(photo: Photo) -> dict:
    return {
        "kind": photo.kind,
        "url": photo_url(photo.display_key),
        "thumbnail_url": photo_url(photo.thumb_key),
        "width": photo.width,
        "height": photo.height,
    }


def _extended(row: Any, page: RequestPage) -> dict:
    return {
        "extended_status": open311_statuses.extended_status(row.detailed_status, row.resolution),
        "external_status_code": open311_statuses.external_status_code(
            row.detailed_status, row.resolution
        ),
        "needs_location": row.lat is None or row.long is None,
        "detailed_status": row.detailed_status,
        "resolution": row.resolution,
        "referred_to": row.referred_to,
        "channel": row.channel,
        "duplicate_of": row.duplicate_of,
        "photos": [_photo_entry(p) for p in page.photos.get(row.id, [])],
        "notes": [
            {"datetime": w3c(note.created_at), "type": note.kind, "summary": note.note}
            for note in page.notes.get(row.id, [])
        ],
    }


def request_entries(
    page: RequestPage, *, extensions: bool = False, extended_statuses: bool = False
) -> list[dict]:
    """Every ``<request>`` of a page, with ``extended_attributes`` when asked.

    With ``extended_statuses`` the ``status`` field carries the outcome (``FIXED``,
    ``DUPLICATE``…, see ``domain/open311_statuses.py``) instead of open/closed.
    """
    entries = []
    template = notice_template()
    names = {key: localized(service, "name") for key, service in page.services.items()}
    for row in page.rows:
        photo_key = page.first_photo.get(row.id)
        service = page.services[row.service_id]
        entry = {
            "service_request_id": row.public_id,
            "status": (
                open311_statuses.extended_status(row.detailed_status, row.resolution)
                if extended_statuses
                else row.status
            ),
            "status_notes": page.status_notes.get(row.id),
            "service_name": names[row.service_id],
            "service_code": service.service_code,
            "description": row.description,
            "agency_responsible": page.departments.get(row.department_id),
            "service_notice": service_notice(row.expected_datetime, row.status, template),
            "requested_datetime": row.requested_datetime,
            "updated_datetime": row.updated_datetime,
            "expected_datetime": row.expected_datetime,
            "address": row.address,
            "address_id": None,
            "zipcode": row.zipcode,
            "lat": row.lat,
            "long": row.long,
            "media_url": photo_url(photo_key) if photo_key else page.media_urls.get(row.id),
        }
        if extensions:
            entry["extended_attributes"] = _extended(row, page)
        entries.append(entry)
    return entries
