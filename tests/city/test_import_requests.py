"""``flask city import-requests``: a city's history from a CSV with a mapping file and
from a second Civic311's Open311 endpoint; reruns and overlapping windows never
duplicate, a broken CSV stops with its line and keeps what was imported, an endless
endpoint stops at the page limit; /stats and map counts are rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tests.api.test_forwarding import _crm_database
from tests.fakes import serve
from tests.fakes.open311_static import endless_requests
from webapp.citypack import import_requests as imports
from webapp.models import ImportRun, MapCellRollup, RequestRollup, ServiceRequest
from webapp.plumbing.extensions import db

MAPPING = """
source = "legacy-crm"
id = "case_id"
service = "type"
received = "opened"
timezone = "America/New_York"
channel = "phone"
prefix = "OLD-"

[columns]
closed = "closed"
status = "state"
lat = "latitude"
long = "longitude"
address = "street_address"
description = "details"

[statuses]
"Open" = "submitted"
"In Progress" = "in_progress"
"Closed" = "closed"

[services]
"Pothole in Street" = "pothole"
"Graffiti Removal" = "graffiti"
"""

HEADER = "case_id,type,opened,closed,state,latitude,longitude,street_address,details\n"


def _csv_rows(count: int, start: int = 1) -> str:
    lines = []
    for n in range(start, start + count):
        kind = "Pothole in Street" if n % 2 else "Graffiti Removal"
        state = "Closed" if n % 3 == 0 else "Open"
        closed = "2025-03-04 10:00:00" if state == "Closed" else ""
        lines.append(f"C-{n},{kind},2025-03-0{1 + n % 3} 09:30:00,{closed},{state},"
                     f"35.05,-85.32,\"{n} Main St, Testville\",Report number {n}\n")
    return "".join(lines)


@pytest.fixture
def files(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return tmp_path, mapping


def _count() -> int:
    return db.session.scalar(select(func.count(ServiceRequest.id)))


def test_csv_history_is_imported_once_and_stats_rebuilt(app, city, city_cli, files, client):
    folder, mapping = files
    data = folder / "old.csv"
    data.write_text(HEADER + _csv_rows(30) + "C-31,Unknown Thing,2025-03-01 09:00:00,,Open,"
                    "35.05,-85.32,x,y\n", encoding="utf-8")
    result = city_cli("import-requests", "--csv", str(data), "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert "30 imported" in result.output and "1 rejected" in result.output
    assert "line 32, field 'type': no service for 'Unknown Thing'" in result.output
    assert _count() == 30
    row = db.session.scalars(select(ServiceRequest).where(ServiceRequest.remote_id == "C-3")).one()
    assert row.import_source == "legacy-crm" and row.public_id == "OLD-C-3"
    assert row.detailed_status == "closed" and row.closed_at is not None
    assert row.received_at == datetime(2025, 3, 1, 14, 30, tzinfo=UTC)  # 9:30 in New York
    assert row.neighborhood.name == "West Side" and row.channel == "phone"
    assert db.session.scalar(select(func.sum(RequestRollup.received))) == 30
    assert db.session.scalar(select(func.sum(MapCellRollup.count))) > 0
    assert client.get("/requests/OLD-C-3").status_code == 200

    again = city_cli("import-requests", "--csv", str(data), "--mapping", str(mapping),
                     "--restart")
    assert again.exit_code == 0, again.output
    assert "0 imported, 30 already there" in again.output
    assert _count() == 30
    assert db.session.scalar(select(func.sum(RequestRollup.received))) == 30


def test_a_broken_csv_stops_at_its_line_keeps_what_came_before_and_resumes(
    app, city, city_cli, files
):
    folder, mapping = files
    data = folder / "old.csv"
    good = _csv_rows(10)
    data.write_text(HEADER + good + 'C-11,Pothole in Street,"2025-03-01 09:00:00,,Open\n'
                    + _csv_rows(5, start=12), encoding="utf-8")
    rules = imports.read_mapping(mapping)
    report = imports.import_csv(data, rules, batch=4)
    assert report.stopped and "old.csv, line" in report.stopped and "quote" in report.stopped
    assert _count() == report.imported == 8  # two whole batches were committed
    run = db.session.scalars(select(ImportRun)).one()
    assert run.state == "stopped" and run.cursor == "9"

    data.write_text(HEADER + good + _csv_rows(5, start=12), encoding="utf-8")
    resumed = imports.import_csv(data, rules, batch=4)
    assert resumed.stopped is None
    assert resumed.imported == 7 and resumed.already == 0  # it went on after line 9
    assert _count() == 15


def test_a_csv_in_the_wrong_encoding_names_the_line(app, city, city_cli, files):
    folder, mapping = files
    data = folder / "old.csv"
    data.write_bytes((HEADER + _csv_rows(3) + "C-9,Graffiti Removal,2025-03-01 09:00:00,,Open,"
                      "35.05,-85.32,Peña St,é\n").encode("latin-1"))
    result = city_cli("import-requests", "--csv", str(data), "--mapping", str(mapping))
    assert result.exit_code == 1
    assert "the file is not utf-8 (byte 0xf1)" in result.output
    assert "What was imported so far is kept" in result.output


@pytest.fixture
def old_system(make_app, database_backend):
    """A second Civic311 holding five requests, served."""
    overrides = {"JURISDICTION_ID": "old.example"}
    kind, location = database_backend
    if kind == "postgres":  # a database of its own, as for the CRM in the forwarding tests
        overrides["SQLALCHEMY_DATABASE_URI"] = _crm_database(location)
    app = make_app(**overrides)
    with app.app_context():
        factories.gen_city()
        made = [factories.gen_request("pothole" if n % 2 else "graffiti",
                                      description=f"Old report {n}") for n in range(5)]
        ids = [r.public_id for r in made]
    running = serve(app)
    yield running, ids
    running.stop()


def test_open311_history_from_a_second_civic311_never_duplicates(app, city, old_system):
    running, ids = old_system
    now = datetime.now(UTC)
    kwargs = {"window": timedelta(days=2), "timeout": 5.0, "max_pages": 50, "page_size": 2,
              "source": "old-crm"}
    report = imports.import_open311(running.url + "/open311/v2/", since=now - timedelta(days=3),
                                    until=now + timedelta(hours=1), **kwargs)
    assert report.stopped is None and report.imported == 5
    found = set(db.session.scalars(select(ServiceRequest.remote_id)))
    assert found == set(ids)
    overlap = imports.import_open311(running.url + "/open311/v2/",
                                     since=now - timedelta(days=1), until=now + timedelta(hours=2),
                                     restart=True, **kwargs)
    assert overlap.imported == 0 and overlap.already == 5
    assert _count() == 5


def test_an_endlessly_paginating_endpoint_stops_at_the_page_limit(app, city, city_cli):
    endpoint = endless_requests("pothole")
    running = serve(endpoint)
    app.config["IMPORT_MAX_PAGES"] = 3
    try:
        result = city_cli("import-requests", "--open311", running.url + "/",
                          "--since", "2025-01-01", "--until", "2025-01-20")
    finally:
        running.stop()
    assert result.exit_code == 1
    assert "stopped after 3 pages" in result.output
    assert _count() == 3000
    assert len(set(db.session.scalars(select(ServiceRequest.remote_id)))) == 3000


def test_an_import_leaves_the_planner_fresh_statistics_on_what_it_loaded(app, city, files):
    """Years of history arrive at once: the tables are analysed (and on PostgreSQL
    vacuumed, so covering indexes answer alone) before the import reports done."""
    folder, mapping = files
    data = folder / "old.csv"
    data.write_text(HEADER + _csv_rows(12), encoding="utf-8")
    imports.import_csv(data, imports.read_mapping(mapping))
    if db.engine.dialect.name == "postgresql":
        refreshed = dict(db.session.execute(text(
            "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname = ANY(:names)"
        ), {"names": list(imports.IMPORTED_TABLES)}).all())
    else:
        analysed = set(db.session.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))
        refreshed = {name: name in analysed for name in imports.IMPORTED_TABLES}
    assert refreshed == dict.fromkeys(imports.IMPORTED_TABLES, True)
