"""Open data: requests as CSV rows or GeoJSON features.

The public export carries only what the public API shows; the staff export adds the
private contact fields and who the request is assigned to. Rows are streamed in
batches so a big city's export never sits in memory at once.

A big city publishes the full public export as files (``publish``, run by the
``flask export-open-data`` job): written atomically, served with a Content-Length and a
manifest of row counts and checksums, so a download cut short can never pass for a
complete one. Clients then pull changes with ``updated_after``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.models import Service, ServiceRequest, utcnow, w3c
from webapp.plumbing.extensions import db

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


def requests(
    private: bool, service_code: str | None = None, updated_after: datetime | None = None
) -> Iterator[dict]:
    """Export rows, oldest first; the public export leaves out non-public services.

    ``updated_after`` keeps only requests changed since then (incremental pulls).
    """
    query = select(ServiceRequest).join(Service)
    if not private:
        query = query.where(Service.public.is_(True))
    if service_code:
        query = query.where(Service.service_code == service_code)
    if updated_after is not None:
        query = query.where(ServiceRequest.updated_at > updated_after)
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


# -- published files -------------------------------------------------------------------

PUBLISHED_KINDS = ("csv", "geojson")
MANIFEST = "requests.json"


@dataclass
class Published:
    """A published export file and what it holds."""

    path: Path
    rows: int
    sha256: str
    generated_at: str


def _write_atomically(target: Path, chunks: Iterable[str]) -> str:
    """Write chunks to a temporary file beside ``target``, then rename it into place.

    Readers see either the previous complete file or the new complete file, never a
    half-written one. Returns the file's SHA-256.
    """
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def publish(directory: Path) -> dict[str, Published]:
    """Write the public CSV and GeoJSON exports into ``directory`` (the job's work).

    Each file is complete or absent; ``requests.json`` beside them records every
    file's row count and checksum, so a client can tell a full download from a cut one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    generated_at = w3c(utcnow())
    done: dict[str, Published] = {}
    for kind in PUBLISHED_KINDS:
        counter = _Counter(requests(False))
        body = to_csv(counter, False) if kind == "csv" else to_geojson(counter)
        target = directory / f"requests.{kind}"
        checksum = _write_atomically(target, body)
        done[kind] = Published(target, counter.count, checksum, generated_at)
    manifest = {
        kind: {
            "file": item.path.name,
            "rows": item.rows,
            "bytes": item.path.stat().st_size,
            "sha256": item.sha256,
            "generated_at": item.generated_at,
        }
        for kind, item in done.items()
    }
    _write_atomically(directory / MANIFEST, [json.dumps(manifest, indent=2)])
    return done


def published(directory: Path, kind: str) -> tuple[Path, dict] | None:
    """The published file of ``kind`` and its manifest entry, when the job has run."""
    try:
        entry = json.loads((directory / MANIFEST).read_text())[kind]
    except (OSError, ValueError, KeyError):
        return None
    path = directory / entry["file"]
    if not path.is_file() or path.stat().st_size != entry["bytes"]:
        return None
    return path, entry


class _Counter:
    """Counts the rows that pass through it."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict]:
        for item in self._rows:
            self.count += 1
            yield item
