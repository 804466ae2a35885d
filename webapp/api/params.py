"""Parsing of query parameters shared by the API views, with clear 400 messages."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from webapp.domain.errors import DomainError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _bad(message: str, field: str) -> DomainError:
    return DomainError(message, status=400, field=field)


def int_param(
    args: Mapping, name: str, default: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """An integer query parameter within bounds."""
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(_("%(name)s must be a whole number.", name=name), name) from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise _bad(
            _(
                "%(name)s must be between %(minimum)s%(upper)s.",
                name=name,
                minimum=minimum,
                upper=upper,
            ),
            name,
        )
    return value


def float_param(
    args: Mapping,
    name: str,
    default: float | None = None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """A number query parameter within bounds."""
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _bad(_("%(name)s must be a number.", name=name), name) from None
    if (
        value != value
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise _bad(_("%(name)s is out of range.", name=name), name)
    return value


def page_params(args: Mapping) -> tuple[int, int]:
    """``page`` (from 1) and ``page_size`` (1..200)."""
    return (
        int_param(args, "page", 1),
        int_param(args, "page_size", DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE),
    )


def bbox_param(args: Mapping) -> tuple[float, float, float, float] | None:
    """``bbox=minLon,minLat,maxLon,maxLat`` as floats, checked for order and range."""
    raw = args.get("bbox")
    if not raw:
        return None
    parts = raw.split(",")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise _bad(_("bbox must be four numbers: minLon,minLat,maxLon,maxLat."), "bbox") from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise _bad(_("bbox corners are out of order or out of range."), "bbox")
    return min_lon, min_lat, max_lon, max_lat
