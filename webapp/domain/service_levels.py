"""Service levels on the city's business clock: when a request is due, at risk, overdue.

A service's target is in calendar days (the historical rule), business days or business
hours. Business time only runs on the city's working days, between its opening and
closing time, in its time zone, and never on its holidays; so a pothole reported on
Friday evening with a two-business-day target is due on Tuesday evening, not Sunday.

One rule gives the due time everywhere: it is stored on the request as ``expected_at``
when the request arrives (and again when its category changes or its clock resumes), so
the staff queue, the resident's page, Open311 ``expected_datetime`` and the public
``/stats`` "closed on time" figure all read the same value.

While the city waits on the resident ("needs information") the clock is paused: the
business time left at the pause is added again from the moment the clock resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from webapp.models import Service, ServiceRequest, utcnow

CALENDAR_DAYS = "days"
BUSINESS_DAYS = "business_days"
BUSINESS_HOURS = "business_hours"
UNITS = (CALENDAR_DAYS, BUSINESS_DAYS, BUSINESS_HOURS)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Walking the calendar day by day stops after this many days (ten years), so a
# calendar with no working day left can never loop for ever.
MAX_DAYS_WALKED = 3660


class CalendarError(ValueError):
    """A business-calendar setting that cannot be read (refused at start-up)."""


@dataclass(frozen=True)
class BusinessCalendar:
    """The city's working time: zone, daily opening hours, working weekdays, holidays."""

    zone: ZoneInfo
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def day_length(self) -> timedelta:
        """How much business time one working day holds."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        """True on a working weekday that is not a holiday."""
        return day.weekday() in self.workdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, tzinfo=self.zone),
            datetime.combine(day, self.closes, tzinfo=self.zone),
        )


def parse_hours(text: str) -> tuple[time, time]:
    """``"08:00-18:00"`` as (opens, closes); closing must come after opening."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise CalendarError(f"business hours must look like 08:00-18:00, not {text!r}") from None
    if end <= start:
        raise CalendarError(f"business hours must close after they open: {text!r}")
    return start, end


def parse_weekdays(text: str) -> frozenset[int]:
    """``"mon,tue,wed,thu,fri"`` as weekday numbers (Monday = 0); at least one."""
    found = set()
    for part in text.split(","):
        name = part.strip().lower()[:3]
        if not name:
            continue
        if name not in WEEKDAYS:
            raise CalendarError(f"unknown weekday {part.strip()!r}")
        found.add(WEEKDAYS.index(name))
    if not found:
        raise CalendarError("at least one working weekday is needed")
    return frozenset(found)


def parse_holidays(text: str) -> frozenset[date]:
    """``"2026-01-01,2026-07-03"`` as dates (ISO, comma separated; blanks ignored)."""
    try:
        return frozenset(date.fromisoformat(p.strip()) for p in text.split(",") if p.strip())
    except ValueError as error:
        raise CalendarError(f"holidays must be ISO dates (YYYY-MM-DD): {error}") from None


def calendar_from(config) -> BusinessCalendar:
    """The business calendar from the app's settings (``CITY_TIMEZONE``, ``CITY_BUSINESS_*``,
    ``CITY_HOLIDAYS``)."""
    opens, closes = parse_hours(config.get("CITY_BUSINESS_HOURS") or "08:00-18:00")
    return BusinessCalendar(
        zone=ZoneInfo(config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"),
        opens=opens,
        closes=closes,
        workdays=parse_weekdays(config.get("CITY_BUSINESS_DAYS") or "mon,tue,wed,thu,fri"),
        holidays=parse_holidays(config.get("CITY_HOLIDAYS") or ""),
    )


def city_calendar() -> BusinessCalendar:
    """The running app's business calendar (UTC, Monday–Friday 08–18 outside an app)."""
    if has_app_context():
        return calendar_from(current_app.config)
    return BusinessCalendar(zone=ZoneInfo("UTC"))


def add_business_time(start: datetime, amount: timedelta, cal: BusinessCalendar) -> datetime:
    """The moment ``amount`` of business time after ``start`` (UTC).

    A start outside working time counts from the next opening. An amount that ends
    exactly at closing time ends there (not at the next opening).
    """
    left = max(amount, timedelta(0))
    moment = start.astimezone(cal.zone)
    for _day in range(MAX_DAYS_WALKED):
        day = moment.date()
        if cal.is_working_day(day):
            opening, closing = cal._window(day)
            moment = max(moment, opening)
            if moment < closing:
                room = closing - moment
                if left <= room:
                    return (moment + left).astimezone(start.tzinfo)
                left -= room
        moment = datetime.combine(day + timedelta(days=1), cal.opens, tzinfo=cal.zone)
    raise CalendarError("the business calendar has no working time left")


def business_time_between(start: datetime, end: datetime, cal: BusinessCalendar) -> timedelta:
    """How much business time lies from ``start`` to ``end`` (negative when end is earlier)."""
    if end < start:
        return -business_time_between(end, start, cal)
    total = timedelta(0)
    day = start.astimezone(cal.zone).date()
    last = end.astimezone(cal.zone).date()
    for _day in range(MAX_DAYS_WALKED):
        if day > last:
            break
        if cal.is_working_day(day):
            opening, closing = cal._window(day)
            lo, hi = max(opening, start), min(closing, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def target(service: Service) -> tuple[str, int] | None:
    """A service's target as (unit, amount), or None when it has none."""
    unit = service.sla_unit or CALENDAR_DAYS
    amount = service.sla_hours if unit == BUSINESS_HOURS else service.sla_days
    return (unit, amount) if amount else None


def due_at(
    service: Service, received_at: datetime, cal: BusinessCalendar | None = None
) -> datetime | None:
    """When the city aims to be done with a request received at ``received_at``.

    Calendar days count every day from the moment it arrived; business days and hours
    count the city's working time only (a business day is one working day's hours).
    """
    found = target(service)
    if found is None:
        return None
    unit, amount = found
    if unit == CALENDAR_DAYS:
        return received_at + timedelta(days=amount)
    cal = cal or city_calendar()
    if unit == BUSINESS_DAYS:
        return add_business_time(received_at, cal.day_length * amount, cal)
    return add_business_time(received_at, timedelta(hours=amount), cal)


def _uses_business_clock(request: ServiceRequest) -> bool:
    found = target(request.service) if request.service else None
    return found is not None and found[0] != CALENDAR_DAYS


def pause(request: ServiceRequest, now: datetime | None = None) -> bool:
    """Stop the request's clock (waiting on the resident); False when it already stands."""
    if request.sla_paused_at is not None or request.is_closed:
        return False
    request.sla_paused_at = now or utcnow()
    return True


def resume(
    request: ServiceRequest, now: datetime | None = None, cal: BusinessCalendar | None = None
) -> bool:
    """Start the clock again: the time that was left at the pause runs from ``now``.

    Business targets keep the business time that was left; calendar-day targets move by
    the paused time. A request that was already late when paused stays as late.
    Returns False when the clock was not paused.
    """
    paused_at = request.sla_paused_at
    if paused_at is None:
        return False
    now = max(now or utcnow(), paused_at)
    request.sla_paused_at = None
    due = request.expected_at
    if due is None:
        return True
    if _uses_business_clock(request):
        cal = cal or city_calendar()
        left = business_time_between(paused_at, due, cal)
        if left > timedelta(0):
            request.expected_at = add_business_time(now, left, cal)
    elif due > paused_at:
        request.expected_at = due + (now - paused_at)
    return True


def at_risk_horizon(now: datetime, cal: BusinessCalendar | None = None) -> datetime:
    """Requests due before this moment (and not yet overdue) are at risk: less than the
    ``SLA_AT_RISK_HOURS`` business hours are left."""
    hours = current_app.config.get("SLA_AT_RISK_HOURS", 8) if has_app_context() else 8
    return add_business_time(now, timedelta(hours=hours), cal or city_calendar())


def standing(
    request: ServiceRequest, now: datetime | None = None, horizon: datetime | None = None
) -> str | None:
    """Where an open request stands against its due time: "paused", "overdue",
    "at_risk", "on_track" — or None when closed or without a target."""
    if request.is_closed or request.expected_at is None:
        return None
    if request.sla_paused_at is not None:
        return "paused"
    now = now or utcnow()
    if request.expected_at < now:
        return "overdue"
    if request.expected_at < (horizon or at_risk_horizon(now)):
        return "at_risk"
    return "on_track"
