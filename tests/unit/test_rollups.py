"""Rollups behind /stats stay right through create, close, reopen, merge and a corrected
close date: after every step the incrementally kept tables (day, month and ISO week)
equal a rebuild from the requests and a count made here from scratch, and the figures
read from them are the ones a person would count by hand."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests import factories
from webapp.domain.figures import rollups, stats
from webapp.domain.lifecycle import after_closure, merging
from webapp.domain.lifecycle import workflow as rules
from webapp.models import (
    CloseDurationMonthRollup,
    CloseDurationRollup,
    CloseDurationWeekRollup,
    RequestMonthRollup,
    RequestRollup,
    RequestWeekRollup,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db

COUNTS = ("received", "reopened", "closed", "closed_with_sla", "closed_on_time")


def _stored(model, keys: tuple[str, ...], columns: tuple[str, ...]) -> Counter:
    """A rollup table as {(key..., column): n}, zero counts left out."""
    found: Counter = Counter()
    for row in db.session.scalars(select(model)):
        for column in columns:
            if getattr(row, column):
                found[(*(getattr(row, k) for k in keys), column)] = getattr(row, column)
    return found


def _month_and_week_tables() -> dict[str, Counter]:
    return {
        "month": _stored(RequestMonthRollup, ("month", "service_id", "channel"), COUNTS),
        "week": _stored(RequestWeekRollup, ("week", "service_id"), COUNTS),
        "month hist": _stored(CloseDurationMonthRollup, ("month", "service_id", "half_days"),
                              ("count",)),
        "week hist": _stored(CloseDurationWeekRollup, ("week", "service_id", "half_days"),
                             ("count",)),
    }


def _counted_from_scratch() -> dict[str, Counter]:
    """The month and week rollups as a person would count them from the requests."""
    zone = rollups.city_zone()
    found = {name: Counter() for name in ("month", "week", "month hist", "week hist")}

    def add(day, service_id, channel, column, histogram=None):
        month, week = day.replace(day=1), day - timedelta(days=day.weekday())
        if histogram is None:
            found["month"][(month, service_id, channel, column)] += 1
            found["week"][(week, service_id, column)] += 1
        else:
            found["month hist"][(month, service_id, histogram, "count")] += 1
            found["week hist"][(week, service_id, histogram, "count")] += 1

    for request in db.session.scalars(select(ServiceRequest)):
        arrived = request.received_at.astimezone(zone).date()
        add(arrived, request.service_id, request.channel, "received")
        if request.reopen_count:
            add(arrived, request.service_id, request.channel, "reopened")
        if request.detailed_status == "closed" and request.closed_at is not None:
            closed = request.closed_at.astimezone(zone).date()
            add(closed, request.service_id, request.channel, "closed")
            if request.expected_at is not None:
                add(closed, request.service_id, request.channel, "closed_with_sla")
                if request.closed_at <= request.expected_at:
                    add(closed, request.service_id, request.channel, "closed_on_time")
            took = (request.closed_at - request.received_at).total_seconds() // (12 * 3600)
            add(closed, request.service_id, None, None, histogram=int(max(took, 0)))
    return found


def _snapshot() -> tuple[set, ...]:
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
    return requests, durations, *_month_and_week_tables().values()


def _assert_matches_a_rebuild() -> None:
    kept = _snapshot()
    rollups.rebuild()
    assert _snapshot() == kept


def _assert_month_and_week_match_a_count() -> None:
    db.session.expire_all()
    assert _month_and_week_tables() == _counted_from_scratch()


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

    after_closure.reopen(first, "Still there", user=resident)
    db.session.commit()
    _assert_matches_a_rebuild()
    figures = _figures("graffiti")
    assert figures.closed == 0 and figures.reopened_share == round(1 / 3, 3)

    merging.merge(second, third, staff, note="Same wall")
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
    for grain in rollups.GRAINS:
        db.session.execute(grain.model.__table__.delete())
    db.session.commit()
    assert _figures("pothole").this_month == 0
    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert "from 1 requests" in result.output
    assert _figures("pothole").this_month == 1


def test_windows_are_the_city_calendar():
    from datetime import UTC, datetime

    from webapp import create_app

    app = create_app({"BABEL_DEFAULT_TIMEZONE": "America/New_York", "PUBLIC_URL": "http://localhost",
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


def test_month_and_week_rollups_equal_a_count_through_create_close_reopen_and_merge(
    app, city
):
    staff = factories.gen_user("staff")
    resident = factories.gen_user("resident")
    old = factories.gen_request("pothole", age_days=45, channel="phone")
    first = factories.gen_request("graffiti", requester=resident, channel="web")
    second = factories.gen_request("graffiti", age_days=9)
    third = factories.gen_request("streetlight", age_days=3, channel="open311")
    for request in (old, second):
        request.expected_at = request.received_at + timedelta(days=7)
    db.session.commit()
    _assert_month_and_week_match_a_count()

    for request in (old, first):
        rules.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    _assert_month_and_week_match_a_count()

    after_closure.reopen(first, "Still there", user=resident)
    db.session.commit()
    _assert_month_and_week_match_a_count()

    merging.merge(second, third, staff, note="Same place")
    db.session.commit()
    _assert_month_and_week_match_a_count()

    rules.transition(first, "closed", staff, note="Done again", resolution="fixed")
    first.closed_at = first.received_at + timedelta(days=2, hours=13)
    db.session.commit()
    _assert_month_and_week_match_a_count()
    _assert_matches_a_rebuild()
    _assert_month_and_week_match_a_count()


def test_the_migration_sums_the_daily_rollups_into_months_and_weeks(app, city):
    staff = factories.gen_user("staff")
    for age, code in ((70, "pothole"), (40, "graffiti"), (12, "graffiti"), (0, "streetlight")):
        request = factories.gen_request(code, age_days=age)
        rules.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    kept = _month_and_week_tables()
    assert kept == _counted_from_scratch()
    db.session.remove()
    downgrade(revision="0012")
    upgrade()
    assert _month_and_week_tables() == kept


def test_stats_read_a_bounded_number_of_rollup_rows(app, city):
    """Twelve months and 53 weeks, whatever the history: the page never reads days."""
    statements = []
    from sqlalchemy import event

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        window = stats.windows()
        stats.per_service(window.month_start, since=window.year_start)
        stats.weekly(window.year_start, window.today)
        stats.by_channel(window.year_start)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    read = " ".join(statements)
    assert "request_rollups" not in read and "close_duration_rollups" not in read
    assert "request_month_rollups" in read and "close_duration_week_rollups" in read
