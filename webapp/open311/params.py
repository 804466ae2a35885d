"""Parsing of Open311 GeoReport v2 inputs (query strings and form posts), with 400s.

Each helper turns raw strings into typed values or raises a ``DomainError`` with
status 400, whose message becomes the Open311 error ``description``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from webapp.domain.errors import DomainError
from webapp.domain.input_rules import InputError, clean_text
from webapp.domain.input_rules import whole_number as checked_whole_number

MAX_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_RADIUS_M = 50_000.0
DEFAULT_RADIUS_M = 500.0
MAX_IDS = 1000
MAX_ITEM = 64
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
STATUSES = ("open", "closed")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACE_OFFSET = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def bad_request(message: str, name: str | None = None) -> DomainError:
    """A 400 refusal naming the parameter that was wrong."""
    return DomainError(message, status=400, field=name)


def w3c_datetime(raw: str | None, name: str) -> datetime | None:
    """A W3C datetime (``2010-04-14T06:37:38-08:00``, ``…Z`` or a bare date) as aware UTC.

    A bare date means midnight UTC. A time without a timezone is refused, because
    its instant would be a guess. An offset whose ``+`` arrived as a space (an
    unencoded query string) is repaired.
    """
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    repaired = _SPACE_OFFSET.match(text)
    if repaired:
        text = f"{repaired.group(1)}+{repaired.group(2)}"
    try:
        if _DATE_ONLY.match(text):
            value = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad_request(
            _(
                "%(name)s must be a W3C date and time, e.g. 2024-05-01T08:00:00-04:00.",
                name=name,
            ),
            name,
        ) from None
    if value.tzinfo is None:
        raise bad_request(
            _("%(name)s must include a timezone (Z or an offset such as -04:00).", name=name),
            name,
        )
    if not EARLIEST <= value <= LATEST:
        raise bad_request(
            _("%(name)s must be between 1970 and 2999.", name=name),
            name,
        )
    return value


def comma_list(raw: str | None, name: str = "value") -> list[str]:
    """The non-empty, stripped items of a comma-separated value, in order, without repeats.

    Each item follows the shared text rules (no control characters, at most 64 long).
    """
    items: list[str] = []
    seen: set[str] = set()
    for item in (raw or "").split(","):
        item = item.strip()
        if not item or item in seen:
            continue
        try:
            items.append(clean_text(item, max_length=MAX_ITEM))
        except InputError as error:
            raise bad_request(f"{name} {error.message}.", name) from None
        seen.add(item)
    return items


def whole_number(args: Mapping, name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An integer parameter within ``minimum..maximum``."""
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = checked_whole_number(str(raw), minimum=-(10**17), maximum=10**17)
    except InputError:
        raise bad_request(_("%(name)s must be a whole number.", name=name), name) from None
    if not minimum <= value <= maximum:
        raise bad_request(
            _(
                "%(name)s must be between %(minimum)s and %(maximum)s.",
                name=name,
                minimum=minimum,
                maximum=maximum,
            ),
            name,
        )
    return value


def number(
    args: Mapping, name: str, *, minimum: float | None = None, maximum: float | None = None
) -> float | None:
    """A decimal parameter within bounds, or None when absent."""
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    if len(text) > 64:
        raise bad_request(_("%(name)s must be a number.", name=name), name)
    try:
        value = float(text)
    except ValueError:
        raise bad_request(_("%(name)s must be a number.", name=name), name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise bad_request(_("%(name)s must be a number.", name=name), name)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise bad_request(_("%(name)s is out of range.", name=name), name)
    return value


def flag(args: Mapping, name: str) -> bool:
    """A boolean parameter: ``true``/``1``/``yes`` are true, anything else false."""
    return str(args.get(name, "")).strip().lower() in ("true", "1", "yes")


@dataclass
class RequestQuery:
    """What ``GET requests`` asked for, after checking."""

    ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    near: tuple[float, float, float] | None = None
    page: int = 1
    page_size: int = MAX_RESULTS
    extensions: bool = False


def _date_window(args: Mapping, now: datetime) -> tuple[datetime | None, datetime | None]:
    """``start_date``/``end_date`` with the spec's 90-day limit.

    Neither given: the last 90 days (unless an ``updated_*`` filter stands in for it).
    Only one given: a 90-day window from or to it.
    """
    start = w3c_datetime(args.get("start_date"), "start_date")
    end = w3c_datetime(args.get("end_date"), "end_date")
    if start and end:
        if end < start:
            raise bad_request(_("end_date must not be before start_date."), "end_date")
        if end - start > MAX_WINDOW:
            raise bad_request(
                _("start_date and end_date may be at most 90 days apart."), "end_date"
            )
    elif start:
        end = start + MAX_WINDOW
    elif end:
        start = end - MAX_WINDOW
    elif not (args.get("updated_after") or args.get("updated_before")):
        start, end = now - MAX_WINDOW, None
    return start, end


def request_query(args: Mapping, now: datetime, *, max_ids: int = MAX_IDS) -> RequestQuery:
    """Check every ``GET requests`` parameter (spec and extensions) and gather them.

    ``service_request_id`` overrides every other filter, as the spec says.
    """
    query = RequestQuery(extensions=flag(args, "extensions"))
    query.ids = comma_list(args.get("service_request_id"), "service_request_id")
    if len(query.ids) > max_ids:
        raise bad_request(
            _("Ask for at most %(count)s service_request_id values at once.", count=max_ids),
            "service_request_id",
        )
    if query.ids:
        return query
    query.service_codes = comma_list(args.get("service_code"), "service_code")
    query.statuses = comma_list(args.get("status"), "status")
    if any(status not in STATUSES for status in query.statuses):
        raise bad_request(_("status must be open or closed (or both, comma separated)."), "status")
    try:
        query.start, query.end = _date_window(args, now)
    except OverflowError:
        raise bad_request(_("The dates are out of range."), "start_date") from None
    query.updated_after = w3c_datetime(args.get("updated_after"), "updated_after")
    query.updated_before = w3c_datetime(args.get("updated_before"), "updated_before")
    if query.updated_after and query.updated_before and query.updated_before < query.updated_after:
        raise bad_request(_("updated_before must not be before updated_after."), "updated_before")
    lat = number(args, "lat", minimum=-90, maximum=90)
    long = number(args, "long", minimum=-180, maximum=180)
    radius = number(args, "radius", minimum=1, maximum=MAX_RADIUS_M)
    if (lat is None) != (long is None):
        raise bad_request(_("lat and long must be given together."), "lat")
    if lat is not None and long is not None:
        query.near = (lat, long, radius if radius is not None else DEFAULT_RADIUS_M)
    elif radius is not None:
        raise bad_request(_("radius needs lat and long."), "radius")
    query.page = whole_number(args, "page", 1, minimum=1, maximum=1_000_000)
    query.page_size = whole_number(args, "page_size", MAX_RESULTS, minimum=1, maximum=MAX_RESULTS)
    return query


def attribute_answers(form: Mapping[str, Any]) -> dict[str, Any]:
    """Answers from ``attribute[code]`` (one value) and ``attribute[code][]`` (several).

    ``form`` is a werkzeug MultiDict; a repeated ``attribute[code]`` also becomes a list.
    """
    answers: dict[str, Any] = {}
    for key in form:
        if not key.startswith("attribute["):
            continue
        values = form.getlist(key)
        if key.endswith("][]"):
            answers[key[len("attribute[") : -3]] = list(values)
        elif key.endswith("]"):
            answers[key[len("attribute[") : -1]] = values if len(values) > 1 else values[0]
        else:
            raise bad_request(
                _("%(name)s is not a valid attribute field name.", name=key), "attribute"
            )
    return answers
