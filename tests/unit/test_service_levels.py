"""Service levels on the city's business clock: the table of due times, the paused clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webapp.domain import service_levels as sl
from webapp.models import Service, ServiceRequest, Status

NY = ZoneInfo("America/New_York")
WEEK = sl.BusinessCalendar(zone=NY)  # Monday–Friday, 08:00–18:00
MONDAY_OFF = sl.BusinessCalendar(zone=NY, holidays=frozenset({date(2026, 3, 16)}))


def city(y, mo, d, h, mi=0) -> datetime:
    """A wall-clock moment in the city, as the aware UTC datetime the app stores."""
    return datetime(y, mo, d, h, mi, tzinfo=NY).astimezone(UTC)


def service(unit: str, amount: int) -> Service:
    if unit == sl.BUSINESS_HOURS:
        return Service(sla_unit=unit, sla_hours=amount)
    return Service(sla_unit=unit, sla_days=amount)


# 2026-03-13 is a Friday; 2026-03-16 the Monday after.
@pytest.mark.parametrize(
    ("received", "unit", "amount", "cal", "due"),
    [
        # The rows: Friday 17:55 + 2 business days.
        (city(2026, 3, 13, 17, 55), sl.BUSINESS_DAYS, 2, WEEK, city(2026, 3, 17, 17, 55)),
        (city(2026, 3, 13, 17, 55), sl.BUSINESS_DAYS, 2, MONDAY_OFF, city(2026, 3, 18, 17, 55)),
        # After closing time the clock starts at the next opening: two whole days.
        (city(2026, 3, 13, 19, 0), sl.BUSINESS_DAYS, 2, WEEK, city(2026, 3, 17, 18, 0)),
        # A Saturday report starts on Monday morning and is due that evening.
        (city(2026, 3, 14, 10, 0), sl.BUSINESS_DAYS, 1, WEEK, city(2026, 3, 16, 18, 0)),
        # Business hours run across the night and the weekend.
        (city(2026, 3, 13, 16, 0), sl.BUSINESS_HOURS, 4, WEEK, city(2026, 3, 16, 10, 0)),
        (city(2026, 3, 12, 7, 0), sl.BUSINESS_HOURS, 10, WEEK, city(2026, 3, 12, 18, 0)),
        # Calendar days keep the historical rule: every day counts.
        (city(2026, 3, 13, 17, 55), sl.CALENDAR_DAYS, 2, WEEK, city(2026, 3, 15, 17, 55)),
        # Across the spring clock change (2026-03-08) the wall clock is kept.
        (city(2026, 3, 6, 17, 0), sl.BUSINESS_DAYS, 1, WEEK, city(2026, 3, 9, 17, 0)),
    ],
)
def test_due_times(received, unit, amount, cal, due):
    assert sl.due_at(service(unit, amount), received, cal) == due


def test_no_target_no_due_time():
    assert sl.due_at(Service(sla_unit=sl.BUSINESS_DAYS, sla_days=None), city(2026, 3, 13, 9), WEEK) is None


def _request(unit: str, amount: int, received: datetime, cal) -> ServiceRequest:
    svc = service(unit, amount)
    return ServiceRequest(
        service=svc,
        detailed_status=Status.ACKNOWLEDGED,
        received_at=received,
        expected_at=sl.due_at(svc, received, cal),
    )


def test_a_three_day_pause_adds_three_days():
    req = _request(sl.BUSINESS_DAYS, 2, city(2026, 3, 13, 17, 55), WEEK)
    assert req.expected_at == city(2026, 3, 17, 17, 55)
    assert sl.pause(req, city(2026, 3, 16, 10, 0))
    assert sl.standing(req, city(2026, 3, 18, 9), city(2026, 3, 18, 17)) == "paused"
    assert not sl.pause(req, city(2026, 3, 16, 11, 0))  # already standing
    assert sl.resume(req, city(2026, 3, 19, 10, 0), WEEK)
    assert req.sla_paused_at is None
    assert req.expected_at == city(2026, 3, 20, 17, 55)
    assert not sl.resume(req, city(2026, 3, 19, 11, 0), WEEK)


def test_a_calendar_pause_moves_by_the_paused_time():
    req = _request(sl.CALENDAR_DAYS, 5, city(2026, 3, 13, 9, 0), WEEK)
    sl.pause(req, city(2026, 3, 14, 9, 0))
    sl.resume(req, city(2026, 3, 17, 9, 0), WEEK)
    assert req.expected_at == city(2026, 3, 21, 9, 0)


def test_a_request_late_when_paused_stays_as_late():
    req = _request(sl.BUSINESS_DAYS, 1, city(2026, 3, 9, 9, 0), WEEK)
    sl.pause(req, city(2026, 3, 12, 9, 0))
    sl.resume(req, city(2026, 3, 13, 9, 0), WEEK)
    assert req.expected_at == city(2026, 3, 10, 9, 0)


def test_standing_in_the_queue():
    req = _request(sl.BUSINESS_DAYS, 2, city(2026, 3, 13, 17, 55), WEEK)
    horizon = sl.add_business_time(city(2026, 3, 17, 10), timedelta(hours=8), WEEK)
    assert sl.standing(req, city(2026, 3, 16, 9), city(2026, 3, 16, 17)) == "on_track"
    assert sl.standing(req, city(2026, 3, 17, 10), horizon) == "at_risk"
    assert sl.standing(req, city(2026, 3, 17, 18)) == "overdue"
    req.detailed_status = Status.CLOSED
    assert sl.standing(req, city(2026, 3, 17, 18)) is None


def test_business_time_between_is_the_inverse_of_adding():
    start = city(2026, 3, 13, 17, 55)
    end = sl.add_business_time(start, timedelta(hours=23), MONDAY_OFF)
    assert sl.business_time_between(start, end, MONDAY_OFF) == timedelta(hours=23)
    assert sl.business_time_between(end, start, MONDAY_OFF) == -timedelta(hours=23)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("CITY_BUSINESS_HOURS", "18:00-08:00"),
        ("CITY_BUSINESS_HOURS", "eight to six"),
        ("CITY_BUSINESS_DAYS", "mon,funday"),
        ("CITY_BUSINESS_DAYS", ","),
        ("CITY_HOLIDAYS", "2026-13-01"),
    ],
)
def test_unreadable_calendar_settings_are_refused(setting, value):
    with pytest.raises(sl.CalendarError):
        sl.calendar_from({"BABEL_DEFAULT_TIMEZONE": "America/New_York", setting: value})


def test_calendar_from_settings():
    cal = sl.calendar_from(
        {
            "BABEL_DEFAULT_TIMEZONE": "America/Chicago",
            "CITY_BUSINESS_HOURS": "07:30-16:00",
            "CITY_BUSINESS_DAYS": "Mon,Tue,Wed,Thu",
            "CITY_HOLIDAYS": "2026-11-26, 2026-12-25",
        }
    )
    assert cal.zone == ZoneInfo("America/Chicago")
    assert cal.day_length == timedelta(hours=8, minutes=30)
    assert cal.workdays == frozenset({0, 1, 2, 3})
    assert cal.holidays == frozenset({date(2026, 11, 26), date(2026, 12, 25)})
