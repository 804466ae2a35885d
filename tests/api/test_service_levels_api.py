"""Service levels end to end: the due time a request gets on the city's business clock, the
pause while the city waits on the resident, and Open311, the pages and /stats agreeing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from webapp.domain.figures import stats
from webapp.domain.lifecycle import after_closure, queue, submission, timeline, waiting, workflow
from webapp.domain.notifications import notify
from webapp.models import EventKind, Service, ServiceRequest
from webapp.plumbing.extensions import db

NY = ZoneInfo("America/New_York")
# The request's life reads the time in these modules: submitting, the timeline, closing
# and reopening.
CLOCKED_RULES = (submission, timeline, workflow, after_closure)


class Clock:
    """The time the rules read (injected in place of ``utcnow``)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: datetime) -> None:
        self.now = local.astimezone(UTC)


def _recent_friday() -> datetime:
    """A Friday at 17:55 in the city, three to four weeks back: inside /stats' window."""
    day = datetime.now(NY).date() - timedelta(days=21)
    day -= timedelta(days=(day.weekday() - 4) % 7)
    return datetime(day.year, day.month, day.day, 17, 55, tzinfo=NY)


@pytest.fixture
def friday():
    return _recent_friday()


@pytest.fixture
def sla_app(make_app, friday):
    """The app with the Monday after ``friday`` a city holiday."""
    monday = (friday + timedelta(days=3)).date().isoformat()
    app = make_app(CITY_HOLIDAYS=monday, BABEL_DEFAULT_TIMEZONE="America/New_York")
    with app.app_context():
        yield app


@pytest.fixture
def clock(monkeypatch, friday):
    found = Clock(friday.astimezone(UTC))
    for rules in (*CLOCKED_RULES, waiting):
        monkeypatch.setattr(rules, "utcnow", found)
    return found


def _sign_in(app, role: str):
    client = app.test_client()
    user = factories.gen_user(role)
    db.session.commit()
    response = client.post(
        "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    return client, user


def _open311_due(client, public_id: str) -> str:
    body = client.get(f"/open311/v2/requests/{public_id}.json").get_json()
    return body[0]["expected_datetime"]


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def test_due_time_pause_open311_and_stats_agree(sla_app, clock, friday):
    factories.gen_city()
    crack = Service.query.filter_by(service_code="graffiti").one()
    crack.sla_unit, crack.sla_days = "business_days", 2
    db.session.commit()
    staff_client, _staff = _sign_in(sla_app, "staff")
    resident_client, resident = _sign_in(sla_app, "resident")

    # Reported Friday 17:55 with 2 business days, Monday a holiday: due Wednesday 17:55.
    on_time = factories.gen_request("graffiti", requester=resident)
    late = factories.gen_request("graffiti")
    wednesday = friday + timedelta(days=5)
    assert on_time.expected_at == wednesday.astimezone(UTC)
    assert _open311_due(staff_client, on_time.public_id) == _w3c(wednesday)
    page = resident_client.get(f"/requests/{on_time.public_id}").get_data(as_text=True)
    assert "The city aims to finish by" in page

    # Tuesday 10:00 the city asks the resident; the clock stands (not overdue on Thursday).
    clock.set(friday.replace(hour=10, minute=0) + timedelta(days=4))
    response = staff_client.post(
        f"/staff/requests/{on_time.public_id}/ask", data={"question": "Which side of the road?"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert on_time.sla_paused_at == clock.now
    thursday = friday + timedelta(days=6)
    assert not queue.is_overdue(on_time, thursday.astimezone(UTC))
    page = resident_client.get(f"/requests/{on_time.public_id}").get_data(as_text=True)
    assert "Which side of the road?" in page and 'name="answer"' in page
    # The resident is told (always, like a closure), by e-mail when they gave an address.
    asked = [e for e in on_time.events if e.kind == EventKind.INFO_REQUESTED][-1]
    assert notify.message_kind(asked) == "question" and notify.wants({}, "question")
    title = notify.build_payload(asked, "question", "/")["notification"]["title"]
    assert title == f"The city needs information about Graffiti {on_time.public_id}"

    # Someone else cannot answer; the resident answers on Friday 10:00: three business
    # days of pause move the due time three business days, to Monday 17:55.
    stranger, _ = _sign_in(sla_app, "resident")
    assert stranger.post(f"/requests/{on_time.public_id}/answer", data={"answer": "x"}).status_code == 403
    clock.set(friday.replace(hour=10, minute=0) + timedelta(days=7))
    empty = resident_client.post(f"/requests/{on_time.public_id}/answer", data={"answer": " "})
    assert empty.status_code == 302
    db.session.expire_all()
    assert on_time.sla_paused_at is not None  # an empty answer is refused, nothing written
    resident_client.post(
        f"/requests/{on_time.public_id}/answer", data={"answer": "The north side, by the bus stop."}
    )
    db.session.expire_all()
    next_monday = friday + timedelta(days=10)
    assert on_time.sla_paused_at is None
    assert on_time.expected_at == next_monday.astimezone(UTC)
    assert _open311_due(staff_client, on_time.public_id) == _w3c(next_monday)
    answers = [e for e in on_time.events if e.kind == EventKind.INFO_PROVIDED]
    assert len(answers) == 1 and not answers[0].public
    staff_page = staff_client.get(f"/staff/requests/{on_time.public_id}").get_data(as_text=True)
    assert "The north side, by the bus stop." in staff_page

    # Closed Monday 17:00: on time by the paused clock (it would be late without the pause);
    # the other, due Wednesday 17:55, closed the same Monday: late.
    clock.set(next_monday.replace(hour=17, minute=0))
    for req in (on_time, late):
        response = staff_client.post(
            f"/staff/requests/{req.public_id}/close",
            data={"resolution": "fixed", "note": "Painted over."},
        )
        assert response.status_code == 302
    db.session.expire_all()
    assert ServiceRequest.query.filter(ServiceRequest.closed_at.isnot(None)).count() == 2
    figures = {s.service_code: s for s in stats.per_service(stats.windows().month_start)}
    assert figures["graffiti"].closed == 2
    assert figures["graffiti"].within_sla_share == 0.5
    assert "50%" in staff_client.get("/stats").get_data(as_text=True)
    assert _open311_due(staff_client, late.public_id) == _w3c(wednesday)


def test_queue_is_ordered_by_due_time_and_flags_at_risk(app, city, auth, monkeypatch):
    clock = Clock(datetime(2026, 3, 10, 14, 0, tzinfo=UTC))
    for rules in CLOCKED_RULES:
        monkeypatch.setattr(rules, "utcnow", clock)
    soon = factories.gen_request("graffiti")
    soon.expected_at = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    later = factories.gen_request("streetlight")
    none = factories.gen_request("graffiti")
    none.expected_at = None
    db.session.commit()
    rows = queue.search(queue.QueueFilters()).rows
    assert [r.id for r in rows] == [soon.id, later.id, none.id]
    at_risk = queue.search(queue.QueueFilters(at_risk=True)).rows
    # "now" for the filter is the wall clock, long after these times: nothing is at risk,
    # and the flagged one is overdue instead.
    assert at_risk == []
    assert queue.search(queue.QueueFilters(overdue=True)).rows[0].id == soon.id
    auth.login("staff")
    page = auth._client.get("/staff/").get_data(as_text=True)
    assert 'value="due" selected' in page
    assert page.index(soon.public_id) < page.index(later.public_id) < page.index(none.public_id)
    assert "oldest" in page  # the other orders stay one choice away


def test_waiting_rules_refuse_what_makes_no_sense(app, city):
    staff = factories.gen_user("staff")
    req = factories.gen_request("graffiti")
    with pytest.raises(Exception, match="write something"):
        waiting.ask_resident(req, staff, "  ")
    waiting.ask_resident(req, staff, "Where exactly?")
    with pytest.raises(Exception, match="already waiting"):
        waiting.ask_resident(req, staff, "Again?")
    waiting.resume_clock(req, staff)
    with pytest.raises(Exception, match="not waiting"):
        waiting.resume_clock(req, staff)
