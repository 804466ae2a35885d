"""Open data: requests as CSV rows or GeoJSON features.

The public export carries only what the public API shows; the staff export adds the
private contact fields and who the request is assigned to. Rows are streamed in
batches so a big city's export never sits in memory at once.

A big city publishes the public export as files (``publish``, run by the
``flask export-open-data`` job): the full download, and change files of the requests last
updated on each recent day and in each recent month. Each is written atomically, served
with a Content-Length and listed in a manifest of row counts and checksums, so a download
cut short can never pass for a complete one. Pulls computed on the spot (``updated_after``,
``service_code``) are counted first with a bounded query (``count_at_most``) so the public
site can refuse one that would hold a worker for minutes and point to the files instead.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, func, select
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


def _window(
    query: Select,
    private: bool,
    service_code: str | None,
    updated_after: datetime | None,
    changed_in: tuple[datetime, datetime] | None,
) -> Select:
    """``query`` (over requests joined to their service) narrowed to one export's rows."""
    if not private:
        query = query.where(Service.public.is_(True))
    if service_code:
        query = query.where(Service.service_code == service_code)
    if updated_after is not None:
        query = query.where(ServiceRequest.updated_at > updated_after)
    if changed_in is not None:
        start, end = changed_in
        query = query.where(ServiceRequest.updated_at >= start, ServiceRequest.updated_at < end)
    return query


def requests(
    private: bool,
    service_code: str | None = None,
    updated_after: datetime | None = None,
    changed_in: tuple[datetime, datetime] | None = None,
) -> Iterator[dict]:
    """Export rows, oldest first; the public export leaves out non-public services.

    ``updated_after`` keeps only requests changed since then (incremental pulls);
    ``changed_in`` only those last changed from its start up to (not including) its end
    (the published change files).
    """
    query = _window(
        select(ServiceRequest).join(Service), private, service_code, updated_after, changed_in
    )
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


def count_at_most(
    limit: int,
    *,
    private: bool = False,
    service_code: str | None = None,
    updated_after: datetime | None = None,
) -> int:
    """How many rows an export would hold, counted no further than ``limit + 1``.

    The count reads at most ``limit + 1`` rows whatever the city's size, so asking
    "is this pull small enough to compute on the spot?" stays cheap at millions of
    requests; an answer above ``limit`` means "too many".
    """
    bounded = (
        _window(select(ServiceRequest.id).join(Service), private, service_code, updated_after, None)
        .limit(limit + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(bounded)) or 0


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
CHANGES_DIR = "changes"
DAILY_CHANGES = 31
MONTHLY_CHANGES = 12


@dataclass
class Published:
    """A published export file and what it holds."""

    path: Path
    rows: int
    sha256: str
    generated_at: str

    def entry(self) -> dict:
        """The file's line in the manifest."""
        return {
            "file": self.path.name,
            "rows": self.rows,
            "bytes": self.path.stat().st_size,
            "sha256": self.sha256,
            "generated_at": self.generated_at,
        }


@dataclass(frozen=True)
class Period:
    """A stretch of time whose changed requests get a file: a UTC day or a UTC month.

    Its file holds every public request whose last update falls in ``[start, end)``,
    as it stood when the file was written; a request changed again later moves to the
    later period's file. Applied oldest first as upserts by ``service_request_id``, the
    files bring a copy up to date.
    """

    name: str
    grain: str
    start: datetime
    end: datetime


def change_periods(
    now: datetime, days: int = DAILY_CHANGES, months: int = MONTHLY_CHANGES
) -> list[Period]:
    """The complete UTC days and months before ``now`` that get a change file, oldest first.

    Today and this month are still moving; their changes are small and stay an
    ``updated_after`` pull on the spot.
    """
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    periods = []
    month_end = today.replace(day=1)
    for _ in range(months):
        month_start = (month_end - timedelta(days=1)).replace(day=1)
        periods.append(Period(month_start.strftime("%Y-%m"), "month", month_start, month_end))
        month_end = month_start
    for back in range(days, 0, -1):
        start = today - timedelta(days=back)
        periods.append(Period(start.strftime("%Y-%m-%d"), "day", start, start + timedelta(days=1)))
    return sorted(periods, key=lambda period: (period.start, period.grain == "day"))


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


def _publish_file(
    target: Path, kind: str, generated_at: str, window: dict | None = None
) -> Published:
    """Write one public export file of ``kind`` (all rows, or those of ``window``)."""
    counter = _Counter(requests(False, **(window or {})))
    body = to_csv(counter, False) if kind == "csv" else to_geojson(counter)
    checksum = _write_atomically(target, body)
    return Published(target, counter.count, checksum, generated_at)


def publish(
    directory: Path,
    now: datetime | None = None,
    days: int = DAILY_CHANGES,
    months: int = MONTHLY_CHANGES,
) -> dict[str, Published]:
    """Write the public exports into ``directory`` (the job's work).

    The full CSV and GeoJSON, then one change file of each kind per period of
    ``change_periods`` under ``changes/``. Each file is complete or absent;
    ``requests.json`` beside them records every file's row count and checksum, so a
    client can tell a full download from a cut one. Change files of periods that fell
    out of the window are removed once the new manifest is in place.
    """
    now = now or utcnow()
    directory.mkdir(parents=True, exist_ok=True)
    changes_dir = directory / CHANGES_DIR
    changes_dir.mkdir(exist_ok=True)
    generated_at = w3c(now)
    done = {
        kind: _publish_file(directory / f"requests.{kind}", kind, generated_at)
        for kind in PUBLISHED_KINDS
    }
    manifest: dict = {kind: item.entry() for kind, item in done.items()}
    changes = []
    for period in change_periods(now, days, months):
        window = {"changed_in": (period.start, period.end)}
        entry = {
            "period": period.name,
            "grain": period.grain,
            "from": w3c(period.start),
            "to": w3c(period.end),
        }
        for kind in PUBLISHED_KINDS:
            target = changes_dir / f"requests-{period.name}.{kind}"
            entry[kind] = _publish_file(target, kind, generated_at, window).entry()
        changes.append(entry)
    manifest["changes"] = changes
    _write_atomically(directory / MANIFEST, [json.dumps(manifest, indent=2)])
    kept = {entry[kind]["file"] for entry in changes for kind in PUBLISHED_KINDS}
    for old in changes_dir.glob("requests-*"):
        if old.name not in kept:
            old.unlink(missing_ok=True)
    return done


def _manifest(directory: Path) -> dict:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _whole(path: Path, entry: dict) -> tuple[Path, dict] | None:
    """The file with its entry, when it is there and as long as the manifest says."""
    if not path.is_file() or path.stat().st_size != entry.get("bytes"):
        return None
    return path, entry


def published(directory: Path, kind: str) -> tuple[Path, dict] | None:
    """The published full file of ``kind`` and its manifest entry, when the job has run."""
    entry = _manifest(directory).get(kind)
    if not isinstance(entry, dict) or "file" not in entry:
        return None
    return _whole(directory / entry["file"], entry)


def published_changes(directory: Path) -> list[dict]:
    """The manifest's change files, oldest period first (empty before the job ran)."""
    changes = _manifest(directory).get("changes")
    return changes if isinstance(changes, list) else []


def published_change(directory: Path, period: str, kind: str) -> tuple[Path, dict] | None:
    """The change file of ``period`` and ``kind``, only when the manifest lists it.

    Only names read from the manifest reach the file system, so no path from a URL does.
    """
    for entry in published_changes(directory):
        if entry.get("period") == period and isinstance(entry.get(kind), dict):
            return _whole(directory / CHANGES_DIR / entry[kind]["file"], entry[kind])
    return None


class _Counter:
    """Counts the rows that pass through it."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict]:
        for item in self._rows:
            self.count += 1
            yield item
