"""What a report and its replay cost the database: the answer is read in one statement,
and a phone seen again within the quarter hour does not write its device row.

The outbox on a phone with bad signal replays reports whose answers were lost, so a
replay is the commonest write the server sees after a storm; these budgets keep it cheap.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import event, select

from tests.api.test_submit_requests import form, post
from webapp.domain.people import devices
from webapp.models import Device
from webapp.plumbing.extensions import db


def _statements(client, data, key) -> tuple[list[str], object]:
    """The SQL a report call runs (whitespace folded), and its answer."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = post(client, data, key=key)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen, response


def test_a_replay_reads_the_request_its_photos_and_timeline_in_one_statement(client, city):
    key = str(uuid.uuid4())
    first = post(client, form(), key=key)
    assert first.status_code == 201
    client.get("/my")  # the phone has presented its device once: nothing left to stamp
    statements, replay = _statements(client, form(), key)
    assert replay.status_code == 200
    assert replay.get_json()["data"] == first.get_json()["data"]
    reads = [s for s in statements if s.startswith("SELECT")]
    touching = [
        s
        for s in reads
        if " FROM service_requests" in s or " FROM photos" in s or " FROM request_events" in s
    ]
    assert len(touching) == 1, touching
    assert "LEFT OUTER JOIN photos" in touching[0]
    assert "LEFT OUTER JOIN request_events" in touching[0]
    # The service check, the device and the request; nothing is written. (The tests
    # read the city's settings on every call; production keeps them for a while.)
    work = [s for s in statements if " FROM city_settings" not in s]
    assert len(work) == 3, work


def test_a_new_report_is_answered_from_one_read_after_it_is_stored(client, city):
    statements, response = _statements(client, form(), str(uuid.uuid4()))
    assert response.status_code == 201
    body = response.get_json()["data"]
    assert body["timeline"] and body["timeline"][0]["label"] == "Report received"
    commit_point = max(i for i, s in enumerate(statements) if s.startswith("INSERT"))
    after = [s for s in statements[commit_point + 1 :] if s.startswith("SELECT")]
    answer_reads = [s for s in after if " FROM service_requests" in s]
    assert len(answer_reads) == 1, after
    assert not [s for s in after if s.startswith("SELECT photos") or "FROM request_events " in s]


def test_a_phone_is_stamped_on_its_first_return_then_once_a_quarter_hour(
    app, city, monkeypatch
):
    token, device = devices.create()
    db.session.commit()
    minted = device.last_seen_at
    moments = iter(
        [
            minted + timedelta(seconds=1),  # first return: always stamped
            minted + timedelta(minutes=10),  # within the quarter hour: kept
            minted + timedelta(minutes=16),  # past it: stamped again
        ]
    )
    monkeypatch.setattr(devices, "utcnow", lambda: next(moments))

    def presented() -> object:
        db.session.expire_all()
        found = devices.find(token)
        dirty = found in db.session.dirty
        db.session.commit()
        return dirty, db.session.get(Device, found.id).last_seen_at

    assert presented() == (True, minted + timedelta(seconds=1))
    assert presented() == (False, minted + timedelta(seconds=1))
    assert presented() == (True, minted + timedelta(minutes=16))
    assert timedelta(minutes=15) == devices.LAST_SEEN_STEP
    assert db.session.scalar(select(Device.created_at).where(Device.id == device.id)) == minted
