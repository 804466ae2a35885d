"""Rollups behind /stats stay right through create, close, reopen, merge and a corrected
close date: after every step the incrementally kept tables equal a rebuild from the
requests, and the figures read from them are the ones a person would count by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests import factories
from webapp.domain import requests as rules
from webapp.domain import rollups, stats
from webapp.extensions import db
from webapp.models import CloseDurationRollup, RequestRollup, utcnow


def _snapshot() -> tuple[set, set]:
    requests = {
        (r.day, r.service_id, r.channel, r.received, r.reopened, r.closed, r.closed_with_sla,
         r.closed_on_time)
        for r in db.session.scalars(select(RequestRollup))
        if any((r.received, r.reopened, r.closed, r.closed_with_sla, r.closed_on_time))
    }
    durations = {
        (d.day, d.service_id, d.half_days, d.count)
        for d in db.session.scalars(select(CloseDurationRollup))
        if d.count
    }
    return requests, durations


def _assert_matches_a_rebuild() -> None:
    kept = _snapshot()
    rollups.rebuild()
    assert _snapshot() == kept


def _figures(code: str) -> stats.ServiceStats:
    return {s.service_code: s for s in stats.per_service(stats.windows().month_start)}[code]


def test_rollups_follow_create_close_reopen_and_merge(app, city):
    staff = factories.gen_user("staff")
    resident = factories.gen_user("resident")
    first = factories.gen_request("graffiti", requester=resident, channel="web")
    second = factories.gen_request("graffiti")
    third = factories.gen_request("graffiti", channel="phone")
    _assert_matches_a_rebuild()
    assert _figures("graffiti").this_month == 3
    assert dict(stats.by_channel(stats.windows().year_start)) == {"web": 1, "pwa": 1, "phone": 1}

    rules.transition(first, "closed", staff, note="Painted over", resolution="fixed")
    db.session.commit()
    _assert_matches_a_rebuild()
    figures = _figures("graffiti")
    assert figures.closed == 1 and figures.within_sla_share == 1.0
    assert figures.median_days_to_close == 0.0

    rules.reopen(first, "Still there", user=resident)
    db.session.commit()
    _assert_matches_a_rebuild()
    figures = _figures("graffiti")
    assert figures.closed == 0 and figures.reopened_share == round(1 / 3, 3)

    rules.merge(second, third, staff, note="Same wall")
    db.session.commit()
    _assert_matches_a_rebuild()
    assert _figures("graffiti").closed == 1

    # A close date corrected by hand moves the close-time histogram too.
    third_closed = second
    third_closed.closed_at = third_closed.received_at + timedelta(days=3)
    db.session.commit()
    _assert_matches_a_rebuild()
    assert _figures("graffiti").median_days_to_close == 3.0


def test_late_closures_count_against_the_sla_in_the_week_they_closed(app, city):
    staff = factories.gen_user("staff")
    late = factories.gen_request("streetlight", age_days=20)
    on_time = factories.gen_request("streetlight", age_days=2)
    for request in (late, on_time):
        request.expected_at = request.received_at + timedelta(days=7)
    db.session.commit()
    rules.transition(late, "closed", staff, note="Fixed", resolution="fixed")
    rules.transition(on_time, "closed", staff, note="Fixed", resolution="fixed")
    db.session.commit()
    _assert_matches_a_rebuild()
    figures = _figures("streetlight")
    assert figures.closed == 2 and figures.within_sla_share == 0.5
    assert figures.median_days_to_close == 2.0
    window = stats.windows()
    weeks = stats.weekly(window.today - timedelta(days=27), window.today)
    this_week = weeks[-1]
    assert this_week.closed == 2 and this_week.within_sla_share == 0.5
    assert sum(w.received for w in weeks) == 2


def test_deleting_a_request_takes_it_out_of_the_rollups(app, city):
    request = factories.gen_request("pothole")
    assert _figures("pothole").this_month == 1
    db.session.delete(request)
    db.session.commit()
    assert _figures("pothole").this_month == 0
    _assert_matches_a_rebuild()


def test_the_rebuild_command_restores_rollups_after_a_bulk_load(app, city):
    factories.gen_request("pothole")
    db.session.execute(RequestRollup.__table__.delete())
    db.session.commit()
    assert _figures("pothole").this_month == 0
    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert "from 1 requests" in result.output
    assert _figures("pothole").this_month == 1


def test_windows_are_the_city_calendar():
    from datetime import UTC, datetime

    from webapp import create_app

    app = create_app({"BABEL_DEFAULT_TIMEZONE": "America/New_York",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        # 02:00 UTC on 1 March is still 28 February in New York.
        window = stats.windows(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    assert window.today.isoformat() == "2027-02-28"
    assert window.month_start.isoformat() == "2027-02-01"
    assert window.year_start.isoformat() == "2026-03-01"
    assert utcnow().tzinfo is not None


def test_stats_page_is_computed_once_a_minute_and_cacheable(app, client, city, monkeypatch):
    factories.gen_request("pothole")
    calls = []
    real = stats.per_service
    monkeypatch.setattr(stats, "per_service", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = client.get("/stats")
    second = client.get("/stats")
    assert first.status_code == second.status_code == 200
    assert len(calls) == 1
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Pothole" in second.get_data(as_text=True)
