"""My work's server side: the crew's list in nearest-next order, and queued actions applied
exactly once (a resend is answered the same) or refused as a conflict with the reason."""

from __future__ import annotations

import io
import uuid

from PIL import Image
from sqlalchemy import func, select

from tests import factories
from webapp.domain.lifecycle import assignment as requests_domain
from webapp.domain.lifecycle import crew_work, merging, workflow
from webapp.models import EventKind, RequestEvent, StaffAction
from webapp.plumbing.extensions import db


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 160, 90)).save(out, "JPEG")
    return out.getvalue()


def _assigned(me, lat, long):
    req = factories.gen_request("graffiti", lat=lat, long=long)
    requests_domain.assign(req, me, assignee=me)
    db.session.commit()
    return req


def _act(client, req, kind, key=None, **fields):
    data = {
        "key": key or str(uuid.uuid4()),
        "kind": kind,
        "request": req.public_id,
        "seen_closed": "0",
        "seen_assignee_id": str(fields.pop("seen", req.assignee_id or "")),
        **fields,
    }
    return client.post("/staff/work/actions", data=data, content_type="multipart/form-data")


def _events(req, kind) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RequestEvent).where(
            RequestEvent.request_id == req.id, RequestEvent.kind == kind
        )
    )


def test_my_work_lists_mine_and_my_crews_in_nearest_next_order(app, city, auth, client):
    me = auth.login("staff")
    me.department_id = city["department"].id
    far = _assigned(me, 35.09, -85.26)
    near = _assigned(me, 35.046, -85.31)
    middle = _assigned(me, 35.06, -85.29)
    crew = factories.gen_request("graffiti", lat=35.01, long=-85.34)  # routed to my department
    someone = factories.gen_user("staff")
    theirs = factories.gen_request("graffiti")
    requests_domain.assign(theirs, someone, assignee=someone)
    db.session.commit()

    data = client.get("/staff/work/data?lat=35.045&long=-85.31").get_json()
    ids = [r["public_id"] for r in data["requests"]]
    assert theirs.public_id not in ids
    assert ids[:3] == [near.public_id, middle.public_id, far.public_id]
    assert crew.public_id in ids
    assert data["csrf"] and data["fetched_at"]
    assert client.get("/staff/work/data?lat=x&long=1").status_code == 400
    assert client.get("/staff/work").status_code == 200


def test_route_is_greedy_nearest_next_with_unplaced_stops_last():
    stops = [("a", 0.0, 0.03), ("b", 0.0, 0.01), ("c", None, None), ("d", 0.0, 0.02)]
    assert crew_work.route(stops, (0.0, 0.0)) == ["b", "d", "a", "c"]
    assert crew_work.route(stops, None) == ["a", "d", "b", "c"]


def test_an_action_is_applied_once_whatever_the_resends(app, city, auth, client):
    me = auth.login("staff")
    req = _assigned(me, 35.05, -85.3)
    key = str(uuid.uuid4())
    first = _act(client, req, "acknowledge", key=key)
    again = _act(client, req, "acknowledge", key=key)
    assert first.status_code == again.status_code == 200
    assert not first.get_json()["replayed"] and again.get_json()["replayed"]
    assert _events(req, EventKind.ACKNOWLEDGED) == 1

    note_key = str(uuid.uuid4())
    for _ in range(3):
        assert _act(client, req, "note", key=note_key, note="Coned off.", public="0").status_code == 200
    assert _events(req, EventKind.PRIVATE_NOTE) == 1
    # The same key for another action is refused, nothing written.
    reused = _act(client, req, "note", key=note_key, note="Something else")
    assert reused.status_code == 422
    assert _events(req, EventKind.PRIVATE_NOTE) == 1

    close_key = str(uuid.uuid4())
    photo = {"photo": (io.BytesIO(_jpeg()), "after.jpg")}
    closed = _act(client, req, "close", key=close_key, note="Painted over.", resolution="fixed", **photo)
    assert closed.status_code == 200 and closed.get_json()["request"]["closed"]
    photo = {"photo": (io.BytesIO(_jpeg()), "after.jpg")}
    resent = _act(client, req, "close", key=close_key, note="Painted over.", resolution="fixed", **photo)
    assert resent.status_code == 200 and resent.get_json()["replayed"]
    db.session.expire_all()
    assert len([p for p in req.photos if p.kind == "closure"]) == 1
    assert db.session.scalar(select(func.count()).select_from(StaffAction)) == 3


def test_conflicts_are_refused_with_the_reason_and_answered_the_same_on_resend(
    app, city, auth, client
):
    me = auth.login("staff", name="Casey Crew")
    other = factories.gen_user("staff", name="Robin Other")
    closed_meanwhile = _assigned(me, 35.05, -85.3)
    reassigned_meanwhile = _assigned(me, 35.05, -85.31)
    merged_meanwhile = _assigned(me, 35.05, -85.32)
    survivor = factories.gen_request("graffiti")
    workflow.transition(closed_meanwhile, "closed", other, note="Done", resolution="fixed")
    requests_domain.assign(reassigned_meanwhile, other, assignee=other)
    merging.merge(merged_meanwhile, survivor, other)
    db.session.commit()

    key = str(uuid.uuid4())
    refused = _act(client, closed_meanwhile, "close", key=key, seen=me.id, note="Fixed.", resolution="fixed")
    assert refused.status_code == 409
    assert refused.get_json()["reason"] == "Closed by someone else meanwhile."
    assert _act(client, closed_meanwhile, "close", key=key, seen=me.id, note="Fixed.", resolution="fixed").get_json()["replayed"]

    moved = _act(client, reassigned_meanwhile, "note", seen=me.id, note="On my way")
    assert moved.status_code == 409
    assert moved.get_json()["reason"] == "Reassigned to Robin Other meanwhile."

    merged = _act(client, merged_meanwhile, "acknowledge", seen=me.id)
    assert merged.status_code == 409 and survivor.public_id in merged.get_json()["reason"]

    db.session.expire_all()
    assert _events(closed_meanwhile, EventKind.STATUS_CHANGED) == 1  # only the other's close
    assert _events(reassigned_meanwhile, EventKind.PRIVATE_NOTE) == 0
    outcomes = db.session.scalars(select(StaffAction.outcome)).all()
    assert outcomes == ["conflict", "conflict", "conflict"]

    # Bad input: a clear 4xx, nothing written.
    assert _act(client, closed_meanwhile, "close", key="not-a-key").status_code == 400
    assert _act(client, reassigned_meanwhile, "dance", seen=other.id).status_code == 422
    assert _act(client, reassigned_meanwhile, "note", seen=other.id, note=" ").status_code == 422
    assert db.session.scalar(select(func.count()).select_from(StaffAction)) == 3
