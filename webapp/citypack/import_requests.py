"""Bring a city's history over: requests from its old system's Open311 endpoint (read
by date window) or from a CSV in the shape cities publish as open data (a mapping
file names the columns and translates statuses and request types).

Rows are written in batches straight to the table, each batch committed with the
import's cursor, so memory stays bounded whatever the size of the history and a
crashed import resumes after its last batch. Every imported request carries its
source and the old system's id, unique together: a rerun, or an overlapping window,
never inserts one twice. Each imported request gets its timeline (opening entry, and the
closing entry with the old system's date and note when it is closed; see
``import_timeline``). The /stats rollups and map counts are rebuilt at the end.
"""

from __future__ import annotations

import csv
import hashlib
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.citypack import import_timeline
from webapp.citypack.problems import PackError, Problem
from webapp.citypack.remote import RemoteError, get_json
from webapp.models import (
    Channel,
    GeocodeState,
    ImportRun,
    Neighborhood,
    Service,
    ServiceRequest,
    Status,
    utcnow,
)
from webapp.plumbing.database import refresh_statistics
from webapp.plumbing.extensions import db

BATCH = 2000
MAX_REASONS = 20
STATUSES = {s.value for s in Status}
CHANNELS = {c.value for c in Channel}
csv.field_size_limit(1024 * 1024)


class ImportStopped(Exception):
    """The import stopped early; what was committed so far stays (and resumes)."""


@dataclass
class ImportReport:
    """Counts and the first reasons rows were turned away."""

    source: str
    imported: int = 0
    already: int = 0
    rejected: int = 0
    timeline: int = 0
    reasons: list[str] = field(default_factory=list)
    stopped: str | None = None
    rollups_from: int = 0

    def reject(self, reason: str) -> None:
        """Count a row that cannot be imported, keeping the first reasons."""
        self.rejected += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)


class Progress:
    """A progress line on a terminal (rewritten in place), a line per 100,000 rows
    elsewhere."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.started = time.monotonic()
        self.last_line = 0

    def show(self, report: ImportReport, where: str) -> None:
        """Say how far the import got."""
        done = report.imported + report.already + report.rejected
        rate = done / max(time.monotonic() - self.started, 1e-6)
        text = (f"{where}: {report.imported:,} imported, {report.already:,} already there, "
                f"{report.rejected:,} rejected ({rate:,.0f} rows/s)")
        if self.tty:
            self.out.write("\r" + text + " " * 4)
            self.out.flush()
        elif done - self.last_line >= 100_000:
            self.last_line = done
            self.out.write(text + "\n")

    def end(self) -> None:
        """Finish the terminal line."""
        if self.tty:
            self.out.write("\n")


class Locator:
    """Neighborhood of a point, with the polygons prepared once in memory."""

    def __init__(self) -> None:
        self.areas = [
            (n.id, n.min_lat, n.min_long, n.max_lat, n.max_long, prep(shape(n.geojson)))
            for n in db.session.scalars(select(Neighborhood))
        ]

    def find(self, lat, long) -> int | None:
        """The id of the neighborhood holding the point, or None."""
        if lat is None or long is None:
            return None
        for ident, a, b, c, d, polygon in self.areas:
            if a <= lat <= c and b <= long <= d and polygon.covers(Point(long, lat)):
                return ident
        return None


def public_id_for(prefix: str, remote_id: str) -> str:
    """The number residents see: the old id when it fits, else a short hash of it."""
    candidate = f"{prefix}{remote_id}"
    if len(candidate) <= 20 and candidate.isascii() and candidate.isprintable():
        return candidate
    return prefix + hashlib.sha256(remote_id.encode()).hexdigest()[: 20 - len(prefix)]


class Writer:
    """Inserts batches, skipping rows whose (source, remote id) is already there."""

    def __init__(self, source: str, kind: str, restart: bool = False) -> None:
        self.source = source
        run = db.session.scalars(select(ImportRun).where(ImportRun.source == source)).first()
        if run is None:
            run = ImportRun(source=source, kind=kind, imported=0, skipped=0, state="running")
            db.session.add(run)
        elif restart:
            run.cursor = None
        run.state = "running"
        run.updated_at = utcnow()
        db.session.commit()
        self.run = run
        dialect = db.session.get_bind().dialect.name
        self.insert = pg_insert if dialect == "postgresql" else sqlite_insert

    @property
    def cursor(self) -> str | None:
        """Where the last committed batch ended."""
        return self.run.cursor

    def write(self, rows: list[dict], cursor: str, report: ImportReport) -> None:
        """Insert ``rows`` and move the cursor, in one transaction."""
        if rows:
            table = ServiceRequest.__table__
            statement = self.insert(table).on_conflict_do_nothing().returning(table.c.id)
            # Rows skipped as already there return nothing: the count is exact on both
            # databases (a bulk rowcount is not).
            inserted = len(db.session.execute(statement, rows).all())
            report.timeline += import_timeline.write_for(
                self.source, [row["remote_id"] for row in rows], self.insert
            )
            report.imported += inserted
            report.already += len(rows) - inserted
            self.run.imported += inserted
        self.run.cursor = cursor
        self.run.skipped = report.rejected
        self.run.updated_at = utcnow()
        db.session.commit()

    def finish(self, state: str, error: str | None = None) -> None:
        """Record how the import ended."""
        db.session.rollback()
        run = db.session.get(ImportRun, self.run.id)
        run.state, run.last_error, run.updated_at = state, error, utcnow()
        db.session.commit()


def _row(*, source, remote_id, service, received, prefix, channel, locator, **values) -> dict:
    lat, long = values.get("lat"), values.get("long")
    detailed = values.get("detailed_status") or Status.SUBMITTED
    closed = detailed == Status.CLOSED
    updated = values.get("updated_at") or values.get("closed_at") or received
    expected = values.get("expected_at") or (
        received + timedelta(days=service.sla_days) if service.sla_days else None
    )
    return {
        "public_id": public_id_for(prefix, remote_id),
        "import_source": source,
        "remote_id": remote_id,
        "service_id": service.id,
        "department_id": service.department_id,
        "description": (values.get("description") or "")[:5000],
        "lat": lat,
        "long": long,
        "needs_location": lat is None,
        "address": (values.get("address") or None) and values["address"][:255],
        "zipcode": (values.get("zipcode") or None) and values["zipcode"][:12],
        "geocode_state": GeocodeState.NOT_NEEDED,
        "geocode_attempts": 0,
        "status": "closed" if closed else "open",
        "detailed_status": detailed,
        "resolution": "fixed" if closed else None,
        "resolution_note": values.get("resolution_note"),
        "reopened": False,
        "reopen_count": 0,
        "channel": channel,
        "community_issue": False,
        "supporters_count": 0,
        "attribute_values": {},
        "neighborhood_id": locator.find(lat, long),
        "received_at": received,
        "updated_at": max(updated, received),
        "expected_at": expected,
        "closed_at": (values.get("closed_at") or updated) if closed else None,
    }


# What an import writes in bulk, the map's grid counts rebuilt from it included.
IMPORTED_TABLES = ("service_requests", "request_events", "map_cell_rollups", "request_rollups")


def _finish(writer: Writer, report: ImportReport, progress: Progress) -> ImportReport:
    from webapp.domain.figures import rollups

    progress.end()
    writer.finish("stopped" if report.stopped else "done", report.stopped)
    report.rollups_from = rollups.rebuild()
    refresh_statistics(IMPORTED_TABLES)
    return report


# --- CSV -------------------------------------------------------------------------------


@dataclass
class Mapping:
    """How a city's open-data CSV maps onto requests (read from a TOML file)."""

    source: str
    id_column: str
    service_column: str
    columns: dict[str, str]
    statuses: dict[str, str]
    services: dict[str, str]
    timezone: ZoneInfo
    date_format: str | None
    channel: str
    prefix: str
    encoding: str


def read_mapping(path: str | Path) -> Mapping:
    """The mapping file, checked (PackError naming the field)."""
    name = Path(path).name
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PackError([Problem(name, f"cannot be read: {error}")]) from None
    problems = []
    for key in ("source", "id", "service", "received"):
        if not isinstance(data.get(key), str) or not data[key]:
            problems.append(Problem(name, "required", field=key))
    statuses = {str(k): str(v) for k, v in (data.get("statuses") or {}).items()}
    for old, new in statuses.items():
        if new not in STATUSES:
            problems.append(Problem(name, f"{new!r} is not one of {sorted(STATUSES)}",
                                    field=f"statuses.{old}"))
    channel = str(data.get("channel", Channel.PHONE))
    if channel not in CHANNELS:
        problems.append(Problem(name, f"{channel!r} is not one of {sorted(CHANNELS)}",
                                field="channel"))
    try:
        zone = ZoneInfo(str(data.get("timezone", "UTC")))
    except (KeyError, ValueError):
        problems.append(Problem(name, "unknown time zone", field="timezone"))
        zone = ZoneInfo("UTC")
    if len(str(data.get("source", ""))) > 40:
        problems.append(Problem(name, "at most 40 characters", field="source"))
    if problems:
        raise PackError(problems)
    columns = {k: str(v) for k, v in (data.get("columns") or {}).items()}
    columns["received"] = data["received"]
    return Mapping(
        source=data["source"],
        id_column=data["id"],
        service_column=data["service"],
        columns=columns,
        statuses=statuses,
        services={str(k): str(v) for k, v in (data.get("services") or {}).items()},
        timezone=zone,
        date_format=data.get("date_format"),
        channel=channel,
        prefix=str(data.get("prefix", "OLD-")),
        encoding=str(data.get("encoding", "utf-8")),
    )


def _when(text: str, mapping: Mapping) -> datetime | None:
    if not text:
        return None
    if mapping.date_format:
        moment = datetime.strptime(text, mapping.date_format)
    else:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=mapping.timezone)
    return moment.astimezone(UTC)


def _number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _csv_lines(path: Path, encoding: str) -> Iterator[tuple[int, dict]]:
    with path.open(encoding=encoding, newline="", errors="strict") as handle:
        reader = csv.DictReader(handle, strict=True)
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as error:
            raise ImportStopped(f"{path.name}, line {reader.line_num}: the CSV cannot be read "
                                f"({error}); look for a stray or unclosed quote") from None
        except UnicodeDecodeError as error:
            raise ImportStopped(f"{path.name}, near line {reader.line_num + 1}: the file is not "
                                f"{encoding} (byte 0x{error.object[error.start]:02x}); set "
                                "encoding in the mapping file or save it as UTF-8") from None


def import_csv(path: str | Path, mapping: Mapping, *, restart: bool = False,
               progress: Progress | None = None, batch: int = BATCH) -> ImportReport:
    """Import the CSV at ``path`` as ``mapping`` says; resumes after its last batch."""
    path = Path(path)
    if not path.is_file():
        raise PackError([Problem(str(path), "no such file")])
    report = ImportReport(source=mapping.source)
    services = {s.service_code: s for s in db.session.scalars(select(Service))}
    for s in list(services.values()):
        db.session.expunge(s)
    locator = Locator()
    writer = Writer(mapping.source, "csv", restart)
    done_until = int(writer.cursor or 0)
    progress = progress or Progress()
    rows: list[dict] = []
    line = 0
    cols = mapping.columns
    try:
        for line, record in _csv_lines(path, mapping.encoding):
            if line <= done_until:
                continue
            if None in record:
                report.reject(f"line {line}: more values than the header has columns")
                continue
            remote_id = (record.get(mapping.id_column) or "").strip()
            if not remote_id:
                report.reject(f"line {line}, field {mapping.id_column!r}: no id")
                continue
            kind = (record.get(mapping.service_column) or "").strip()
            service = services.get(mapping.services.get(kind, kind))
            if service is None:
                report.reject(f"line {line}, field {mapping.service_column!r}: no service "
                              f"for {kind!r} (add it under [services])")
                continue
            old_status = (record.get(cols.get("status", "")) or "").strip()
            status = mapping.statuses.get(old_status, old_status.lower() or "submitted")
            if status not in STATUSES:
                report.reject(f"line {line}, field {cols.get('status')!r}: unknown status "
                              f"{old_status!r} (add it under [statuses])")
                continue
            try:
                received = _when((record.get(cols["received"]) or "").strip(), mapping)
                if received is None:
                    raise ValueError("empty")
                closed = _when((record.get(cols.get("closed", "")) or "").strip(), mapping)
                updated = _when((record.get(cols.get("updated", "")) or "").strip(), mapping)
            except ValueError:
                report.reject(f"line {line}: a date cannot be read")
                continue
            try:
                lat = _number((record.get(cols.get("lat", "")) or "").strip())
                long = _number((record.get(cols.get("long", "")) or "").strip())
                if lat is not None and not (-90 <= lat <= 90 and -180 <= long <= 180):
                    raise ValueError
            except (TypeError, ValueError):
                report.reject(f"line {line}, field {cols.get('lat')!r}: not a position")
                continue
            rows.append(_row(
                source=mapping.source, remote_id=remote_id[:120], service=service,
                received=received, prefix=mapping.prefix, channel=mapping.channel,
                locator=locator, detailed_status=status, closed_at=closed, updated_at=updated,
                lat=lat, long=long,
                description=record.get(cols.get("description", "")),
                resolution_note=(
                    (record.get(cols.get("note", "")) or "").strip()[:5000] or None
                    if status == Status.CLOSED else None
                ),
                address=(record.get(cols.get("address", "")) or "").strip(),
                zipcode=(record.get(cols.get("zipcode", "")) or "").strip(),
            ))
            if len(rows) >= batch:
                writer.write(rows, str(line), report)
                rows = []
                progress.show(report, path.name)
        writer.write(rows, str(line), report)
    except ImportStopped as stop:
        report.stopped = str(stop)
        db.session.rollback()
    return _finish(writer, report, progress)


# --- Open311 ---------------------------------------------------------------------------


def _open311_row(item: dict, services, locator, source: str, report: ImportReport,
                 prefix: str):
    remote_id = str(item.get("service_request_id") or "").strip()
    if not remote_id:
        report.reject("a request without service_request_id")
        return None
    service = services.get(str(item.get("service_code") or ""))
    if service is None:
        report.reject(f"request {remote_id}: unknown service_code "
                      f"{item.get('service_code')!r} (import the catalogue first)")
        return None
    try:
        received = datetime.fromisoformat(str(item["requested_datetime"]).replace("Z", "+00:00"))
        updated = item.get("updated_datetime")
        updated = datetime.fromisoformat(updated.replace("Z", "+00:00")) if updated else None
        expected = item.get("expected_datetime")
        expected = datetime.fromisoformat(expected.replace("Z", "+00:00")) if expected else None
        lat = float(item["lat"]) if item.get("lat") not in (None, "") else None
        long = float(item["long"]) if item.get("long") not in (None, "") else None
    except (KeyError, TypeError, ValueError, AttributeError):
        report.reject(f"request {remote_id}: a date or position cannot be read")
        return None
    aware = [m if m is None or m.tzinfo else m.replace(tzinfo=UTC)
             for m in (received, updated, expected)]
    received, updated, expected = aware
    closed = str(item.get("status") or "").lower() == "closed"
    return _row(
        source=source, remote_id=remote_id[:120], service=service,
        received=received.astimezone(UTC), prefix=prefix, channel=Channel.OPEN311,
        locator=locator,
        detailed_status=Status.CLOSED if closed else Status.SUBMITTED,
        updated_at=updated.astimezone(UTC) if updated else None,
        expected_at=expected.astimezone(UTC) if expected else None,
        closed_at=updated.astimezone(UTC) if closed and updated else None,
        resolution_note=item.get("status_notes") if closed else None,
        lat=lat, long=long, description=str(item.get("description") or ""),
        address=str(item.get("address") or ""), zipcode=str(item.get("zipcode") or ""),
    )


def import_open311(url: str, *, since: datetime, until: datetime, window: timedelta,
                   timeout: float, max_pages: int, page_size: int = 1000,
                   source: str | None = None, jurisdiction: str | None = None,
                   restart: bool = False, progress: Progress | None = None,
                   prefix: str = "OLD-") -> ImportReport:
    """Import requests from ``since`` to ``until``, one date window at a time, pages
    within a window; at most ``max_pages`` calls. Resumes after the last whole window."""
    from webapp.citypack.import_services import base_of

    base = base_of(url)
    source = (source or base.split("//", 1)[-1].split("/", 1)[0])[:40]
    report = ImportReport(source=source)
    services = {s.service_code: s for s in db.session.scalars(select(Service))}
    for s in list(services.values()):
        db.session.expunge(s)
    locator = Locator()
    writer = Writer(source, "open311", restart)
    start = since
    if writer.cursor:
        start = max(start, datetime.fromisoformat(writer.cursor))
    progress = progress or Progress()
    pages = 0
    try:
        while start < until:
            end = min(start + window, until)
            seen: set[str] = set()
            page = 1
            while True:
                if pages >= max_pages:
                    raise ImportStopped(f"stopped after {max_pages} pages (the most one run "
                                        "reads); run again to go on from "
                                        f"{start.isoformat()}")
                params = {"start_date": start.isoformat(timespec="seconds"),
                          "end_date": end.isoformat(timespec="seconds"),
                          "page": page, "page_size": page_size}
                if jurisdiction:
                    params["jurisdiction_id"] = jurisdiction
                pages += 1
                items = get_json(base + "requests.json", params, timeout=timeout)
                if not isinstance(items, list):
                    raise ImportStopped(f"{base}requests.json did not return a list")
                fresh = [i for i in items if isinstance(i, dict)
                         and str(i.get("service_request_id")) not in seen]
                rows = []
                for item in fresh:
                    seen.add(str(item.get("service_request_id")))
                    row = _open311_row(item, services, locator, source, report, prefix)
                    if row is not None:
                        rows.append(row)
                writer.write(rows, writer.cursor or "", report)
                progress.show(report, f"{start.date()}–{end.date()}")
                # A server that ignores paging sends the same page again: stop there.
                if len(items) < page_size or not fresh:
                    break
                page += 1
            writer.write([], end.isoformat(), report)
            start = end
    except (RemoteError, ImportStopped) as stop:
        report.stopped = str(stop)
        db.session.rollback()
    return _finish(writer, report, progress)
