"""``boundary.geojson`` and ``neighborhoods.geojson``: the city limits and its neighborhoods.

Each polygon is checked by ``citypack.geometry`` (closed rings, WGS84, in the city's
time zone's part of the world); a neighborhood without a name or named twice is a problem.
"""

from __future__ import annotations

from webapp.citypack import geometry
from webapp.citypack.problems import Collector
from webapp.citypack.reading.files import read_json


def read_boundary(raw: bytes, found: Collector, timezone) -> dict | None:
    """The city limits: one checked (Multi)Polygon, or None."""
    name = "boundary.geojson"
    data = read_json(name, raw, found)
    if data is None:
        return None
    polygon, problems = geometry.check_polygon(data, timezone=timezone)
    for problem in problems:
        found.add(name, problem)
    return polygon


def read_neighborhoods(raw: bytes, found: Collector, timezone, name_property: str) -> list[dict]:
    """Each named, checked neighborhood polygon of the FeatureCollection."""
    name = "neighborhoods.geojson"
    data = read_json(name, raw, found)
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        found.add(name, "a FeatureCollection is expected")
        return []
    result, seen = [], set()
    for index, feature in enumerate(data.get("features") or [], 1):
        label = f"features[{index}]"
        props = (feature or {}).get("properties") or {}
        hood = str(props.get(name_property, "")).strip()
        if not hood:
            found.add(name, f"the feature has no {name_property!r} property",
                      field=f"{label}.properties.{name_property}")
            continue
        if hood.lower() in seen:
            found.add(name, f"the neighborhood {hood!r} appears twice", field=label)
        seen.add(hood.lower())
        polygon, problems = geometry.check_polygon(
            {**feature, "crs": data.get("crs")} if data.get("crs") else feature,
            timezone=timezone,
        )
        for problem in problems:
            found.add(name, f"{hood}: {problem}", field=label)
        if polygon:
            result.append({"name": hood, "geojson": polygon})
    return result
