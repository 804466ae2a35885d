"""Checks on a pack's GeoJSON: a city boundary or neighborhood must be a valid polygon in
WGS84 longitude/latitude with RFC 7946 winding, else a message saying what is wrong.

The mistakes cities make most when exporting from GIS software are each named: a
projected layer (metres or feet, not degrees), latitude and longitude swapped, rings
wound clockwise, a ring that crosses itself.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shapely.geometry import LinearRing, shape
from shapely.validation import explain_validity

WGS84_NAMES = ("CRS84", "EPSG:4326", "EPSG::4326", "WGS84")
# A time zone's UTC offset times 15 degrees is a rough longitude: a polygon whose
# longitudes are this far from it (and whose latitudes are not) has its axes swapped.
SWAP_DEGREES = 35


def _positions(coordinates, depth: int):
    if depth == 0:
        yield coordinates
        return
    for item in coordinates:
        yield from _positions(item, depth - 1)


def _rings(geometry: dict) -> list[tuple[list, bool]]:
    """(ring, is_exterior) for every ring of a Polygon or MultiPolygon."""
    polygons = (
        [geometry["coordinates"]]
        if geometry["type"] == "Polygon"
        else list(geometry["coordinates"])
    )
    rings = []
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            rings.append((ring, index == 0))
    return rings


def zone_longitude(timezone: str | None) -> float | None:
    """A rough longitude for a time zone (its standard offset × 15°), or None."""
    if not timezone:
        return None
    try:
        offset = datetime(2025, 1, 15, tzinfo=ZoneInfo(timezone)).utcoffset()
    except (KeyError, ValueError):
        return None
    return offset.total_seconds() / 3600 * 15 if offset is not None else None


def check_polygon(data, *, timezone: str | None = None) -> tuple[dict | None, list[str]]:
    """(geometry, problems) for GeoJSON that should be one Polygon or MultiPolygon.

    Accepts a geometry, a Feature, or a FeatureCollection holding one feature.
    """
    if isinstance(data, dict) and data.get("crs"):
        name = str(((data["crs"].get("properties") or {}).get("name")) or "")
        if not any(name.upper().endswith(w) for w in WGS84_NAMES):
            return None, [
                f"the file declares the coordinate system {name!r}; export it in WGS84 "
                "(EPSG:4326, longitude then latitude in degrees)"
            ]
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            return None, [f"expected one feature, found {len(features)}"]
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        return None, [f"expected a Polygon or MultiPolygon, found {kind}"]
    depth = 2 if data["type"] == "Polygon" else 3
    try:
        points = list(_positions(data.get("coordinates"), depth))
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
    except (TypeError, ValueError, IndexError):
        return None, ["the coordinates are not lists of [longitude, latitude] numbers"]
    if not points:
        return None, ["the polygon has no coordinates"]
    if any(abs(x) > 180 for x in xs) or any(abs(y) > 180 for y in ys):
        return None, [
            f"coordinates such as [{xs[0]}, {ys[0]}] are not degrees: the layer is projected "
            "(metres or feet); export it in WGS84 (EPSG:4326)"
        ]
    if any(abs(y) > 90 for y in ys):
        return None, [
            f"a latitude of {max(ys, key=abs)} is impossible: latitude and longitude are "
            "swapped (GeoJSON is [longitude, latitude])"
        ]
    expected = zone_longitude(timezone)
    if expected is not None:
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        if abs(mean_x - expected) > SWAP_DEGREES and abs(mean_y - expected) <= SWAP_DEGREES:
            return None, [
                f"the points lie near longitude {mean_x:.2f}, latitude {mean_y:.2f}, far "
                f"from the city's time zone ({timezone}): latitude and longitude are "
                "swapped (GeoJSON is [longitude, latitude])"
            ]
    problems = []
    for ring, exterior in _rings(data):
        if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
            problems.append(
                "a ring is not closed (its last point must repeat its first, and it needs "
                "at least 4 points)"
            )
            continue
        ccw = LinearRing(ring).is_ccw
        if exterior and not ccw:
            problems.append(
                "wrong winding: the outer ring runs clockwise; RFC 7946 GeoJSON runs outer "
                "rings counterclockwise (reverse the points, or export with RFC7946=YES)"
            )
        elif not exterior and ccw:
            problems.append(
                "wrong winding: a hole runs counterclockwise; RFC 7946 GeoJSON runs holes "
                "clockwise (reverse its points)"
            )
    if problems:
        return None, problems
    geometry = shape(data)
    if geometry.is_empty:
        return None, ["the polygon is empty"]
    if not geometry.is_valid:
        reason = explain_validity(geometry)
        if reason.startswith(("Self-intersection", "Ring Self-intersection")):
            where = reason.split("[", 1)[-1].rstrip("]")
            return None, [f"the outline crosses itself near {where} (self-intersection)"]
        return None, [f"the polygon is not valid: {reason}"]
    return data, []
