"""Imported requests read sensibly: each has its opening entry, and a closed one its
closing entry with the old system's date and note, marked as imported, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from tests import factories
from tests.api.test_forwarding import _crm_database
from tests.city.test_import_requests import HEADER, MAPPING
from tests.fakes import serve
from webapp.citypack import import_requests as imports
from webapp.domain.lifecycle import workflow
from webapp.models import EventKind, RequestEvent, ServiceRequest, Status
from webapp.plumbing.extensions import db

NOTE_MAPPING = MAPPING.replace('description = "details"',
                               'description = "details"\nnote = "resolution"')
NOTE_HEADER = HEADER.rstrip("\n") + ",resolution\n"
ROWS = (
    "C-1,Pothole in Street,2025-03-01 09:30:00,,Open,35.05,-85.32,1 Main St,Deep hole,\n"
    "C-2,Graffiti Removal,2025-03-02 08:00:00,2025-03-04 16:15:00,Closed,35.05,-85.32,"
    "2 Main St,Tag on the wall,Painted over by the graffiti crew\n"
    "C-3,Pothole in Street,2025-03-03 18:00:00,2025-03-03 17:00:00,Closed,35.05,-85.32,"
    "3 Main St,Closed before it was opened,\n"
)


def _timeline(remote_id: str) -> list[RequestEvent]:
    request = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.remote_id == remote_id)
    ).one()
    return sorted(request.events, key=lambda e: e.created_at)


def _events() -> int:
    return db.session.scalar(select(func.count(RequestEvent.id)))


@pytest.fixture
def old_csv(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(NOTE_MAPPING, encoding="utf-8")
    data = tmp_path / "old.csv"
    data.write_text(NOTE_HEADER + ROWS, encoding="utf-8")
    return data, mapping


def test_csv_requests_get_their_opening_and_closing_entries_once(app, city, city_cli, old_csv,
                                                                 client, auth):
    data, mapping = old_csv
    result = city_cli("import-requests", "--csv", str(data), "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert "5 timeline entries written" in result.output

    [opened] = _timeline("C-1")
    assert opened.kind == EventKind.CREATED and opened.to_status == Status.SUBMITTED
    assert opened.created_at == datetime(2025, 3, 1, 14, 30, tzinfo=UTC)  # 9:30 in New York
    assert opened.actor_id is None and opened.public
    assert opened.data == {"imported": "legacy-crm"}

    received, closed = _timeline("C-2")
    assert received.kind == EventKind.CREATED
    assert closed.kind == EventKind.STATUS_CHANGED and closed.to_status == Status.CLOSED
    assert closed.created_at == datetime(2025, 3, 4, 21, 15, tzinfo=UTC)
    assert closed.note == "Painted over by the graffiti crew"
    assert closed.data == {"imported": "legacy-crm", "resolution": "fixed"}

    # A closing time before the report (a slipped clock) is put at the report's time, with
    # no note when the old system gave none.
    received, closed = _timeline("C-3")
    assert closed.created_at == received.created_at and closed.note is None

    page = client.get("/requests/OLD-C-2").get_data(as_text=True)
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert "Report received" in timeline and "Fixed" in timeline
    assert "Painted over by the graffiti crew" in timeline
    auth.login("staff")
    record = client.get("/staff/requests/OLD-C-2").get_data(as_text=True)
    assert "Report received" in record and "Painted over by the graffiti crew" in record

    before = _events()
    again = city_cli("import-requests", "--csv", str(data), "--mapping", str(mapping),
                     "--restart")
    assert again.exit_code == 0, again.output
    assert "0 timeline entries written" in again.output
    assert _events() == before == 5


def test_a_rerun_gives_earlier_imports_their_missing_timeline(app, city, old_csv):
    data, mapping = old_csv
    rules = imports.read_mapping(mapping)
    imports.import_csv(data, rules)
    db.session.execute(delete(RequestEvent))  # as imported before requests had a timeline
    db.session.commit()
    report = imports.import_csv(data, rules, restart=True)
    assert report.imported == 0 and report.already == 3 and report.timeline == 5
    assert [e.kind for e in _timeline("C-2")] == [EventKind.CREATED, EventKind.STATUS_CHANGED]


@pytest.fixture
def old_system(make_app, database_backend):
    """A second Civic311 with three requests, one of them closed with a note."""
    overrides = {"JURISDICTION_ID": "old.example"}
    kind, location = database_backend
    if kind == "postgres":
        overrides["SQLALCHEMY_DATABASE_URI"] = _crm_database(location)
    app = make_app(**overrides)
    with app.app_context():
        factories.gen_city()
        made = [factories.gen_request("pothole", description=f"Old report {n}")
                for n in range(3)]
        crew = factories.gen_user("staff")
        workflow.transition(made[0], Status.CLOSED, crew, note="Patched with asphalt",
                                   resolution="fixed")
        db.session.commit()
        closed_id = made[0].public_id
        closed_at = made[0].closed_at
    running = serve(app)
    yield running, closed_id, closed_at
    running.stop()


def test_open311_history_brings_the_closing_note_and_date(app, city, old_system):
    running, closed_id, closed_at = old_system
    now = datetime.now(UTC)
    kwargs = {"window": timedelta(days=2), "timeout": 5.0, "max_pages": 50, "page_size": 2,
              "source": "old-crm"}
    report = imports.import_open311(running.url + "/open311/v2/", since=now - timedelta(days=3),
                                    until=now + timedelta(hours=1), **kwargs)
    assert report.imported == 3 and report.timeline == 4
    received, closed = _timeline(closed_id)
    assert received.data == {"imported": "old-crm"}
    assert closed.note == "Patched with asphalt" and closed.to_status == Status.CLOSED
    assert abs(closed.created_at - closed_at) < timedelta(seconds=1)  # the old system's time

    again = imports.import_open311(running.url + "/open311/v2/", since=now - timedelta(days=3),
                                   until=now + timedelta(hours=1), restart=True, **kwargs)
    assert again.already == 3 and again.timeline == 0
    assert _events() == 4
