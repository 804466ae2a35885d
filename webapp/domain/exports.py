"""Open data: requests as CSV rows or GeoJSON features.

The public export carries only what the public API shows; the staff export adds the
private contact fields and who the request is assigned to. Rows are streamed in
batches so a big city's export never sits in memory at once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Service, ServiceRequest, w3c

PUBLIC_FIELDS = (
    "service_request_id",
    "service_code",
    "service_name",
    "status",
    "detailed_status",
    "resolution",
    "description",
    "lat",
    "long",
    "address",
    "neighborhood",
    "agency_responsible",
    "supporters_count",
    "reopen_count",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "closed_datetime",
)
PRIVATE_FIELDS = ("contact_name", "contact_email", "contact_phone", "channel", "assignee")
BATCH = 1000
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def fields(private: bool) -> tuple[str, ...]:
    """The column names of an export."""
    return PUBLIC_FIELDS + PRIVATE_FIELDS if private else PUBLIC_FIELDS


def row(request: ServiceRequest, private: bool) -> dict:
    """One request as a flat dict of export fields."""
    item = {
        "service_request_id": request.public_id,
        "service_code": request.service.service_code,
        "service_name": request.service.name,
        "status": request.status,
        "detailed_status": request.detailed_status,
        "resolution": request.resolution,
        "description": request.description,
        "lat": request.lat,
        "long": request.long,
        "address": request.address,
        "neighborhood": request.neighborhood.name if request.neighborhood else None,
        "agency_responsible": request.department.name if request.department else None,
        "supporters_count": request.supporters_count,
        "reopen_count": request.reopen_count,
        "requested_datetime": w3c(request.received_at),
        "updated_datetime": w3c(request.updated_at),
        "expected_datetime": w3c(request.expected_at),
        "closed_datetime": w3c(request.closed_at),
    }
    if private:
        item.update(
            contact_name=request.contact_name,
            contact_email=request.contact_email,
            contact_phone=request.contact_phone,
            channel=request.channel,
            assignee=request.assignee.display_name if request.assignee else None,
        )
    return item


def requests(private: bool, service_code: str | None = None) -> Iterator[dict]:
    """Export rows, oldest first; the public export leaves out non-public services."""
    query = select(ServiceRequest).join(Service)
    if not private:
        query = query.where(Service.public.is_(True))
    if service_code:
        query = query.where(Service.service_code == service_code)
    query = query.order_by(ServiceRequest.id).options(
        selectinload(ServiceRequest.service),
        selectinload(ServiceRequest.neighborhood),
        selectinload(ServiceRequest.department),
        selectinload(ServiceRequest.assignee),
    )
    last_id = 0
    while True:
        batch = db.session.scalars(query.where(ServiceRequest.id > last_id).limit(BATCH)).all()
        if not batch:
            return
        for request in batch:
            yield row(request, private)
        last_id = batch[-1].id


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading quote.

    Numbers are left alone (a longitude of -85.3 is data, not a formula); text such as
    ``=HYPERLINK(...)`` or ``-2+3`` is written as ``'=HYPERLINK(...)``, which every
    spreadsheet shows as the text it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict], private: bool) -> Iterator[str]:
    """CSV text in chunks: a header line, then one line per row, formula-safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields(private), extrasaction="ignore")
    writer.writeheader()
    for item in rows:
        writer.writerow({key: spreadsheet_safe(value) for key, value in item.items()})
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_geojson(rows: Iterable[dict]) -> Iterator[str]:
    """A GeoJSON FeatureCollection of Point features, in chunks."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    for item in rows:
        feature = {
            "type": "Feature",
            "geometry": (
                {"type": "Point", "coordinates": [item["long"], item["lat"]]}
                if item["lat"] is not None and item["long"] is not None
                else None
            ),
            "properties": item,
        }
        yield ("" if first else ",") + json.dumps(feature, separators=(",", ":"))
        first = False
    yield "]}"
