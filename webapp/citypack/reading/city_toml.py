"""``city.toml``: the city's settings and departments, and the app icons drawn from its image.

Languages, time zone, colours, map, geocoder, business hours and holidays are checked
here, so a pack with a wrong hour or an unknown time zone never reaches the database.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.citypack import branding, icons
from webapp.citypack.problems import Collector
from webapp.citypack.reading.answers_and_staff import EMAIL
from webapp.citypack.reading.files import decoded_text, read_bytes

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_settings(raw: bytes, found: Collector, supported_locales) -> tuple[dict, list[dict]]:
    """``city.toml``'s settings and its departments, every value checked."""
    name = "city.toml"
    text = decoded_text(name, raw, found)
    if text is None:
        return {}, []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None)
        match = re.search(r"line (\d+)", str(error))
        found.add(name, f"not valid TOML: {error}", line=line or (int(match[1]) if match else None))
        return {}, []
    for key in ("name", "jurisdiction_id", "timezone"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            found.add(name, "required text is missing", field=key)
    timezone = data.get("timezone")
    if isinstance(timezone, str) and timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.add(name, f"unknown time zone {timezone!r} (use e.g. America/Chicago)",
                      field="timezone")
    languages = data.get("languages", ["en"])
    if not isinstance(languages, list) or not languages:
        found.add(name, "a list of language codes is expected", field="languages")
        languages = ["en"]
    for code in languages:
        if code not in supported_locales:
            found.add(
                name,
                f"unknown language {code!r}: this server has {', '.join(supported_locales)}",
                field="languages",
            )
    public_url = data.get("public_url", "")
    if public_url and not re.match(r"^https?://[^/\s]+", str(public_url)):
        found.add(name, "must start with https://", field="public_url")
    colours = data.get("colours", {})
    primary = branding.parse_hex(colours.get("primary", "#0b5c4a"))
    on_primary = branding.parse_hex(colours.get("on_primary", "#ffffff"))
    if primary is None:
        found.add(name, "a colour like #0b5c4a is expected", field="colours.primary")
    if on_primary is None:
        found.add(name, "a colour like #ffffff is expected", field="colours.on_primary")
    if primary and on_primary:
        ratio = branding.contrast_ratio(primary, on_primary)
        if ratio < branding.AA_NORMAL_TEXT:
            found.add(
                name,
                f"text in {colours.get('on_primary', '#ffffff')} on "
                f"{colours.get('primary')} has a contrast of {ratio:.2f}:1; WCAG AA needs "
                f"{branding.AA_NORMAL_TEXT}:1 — darken the primary colour or change the text "
                "colour",
                field="colours",
            )
    map_ = data.get("map", {})
    tile_url = map_.get("tile_url", "")
    if tile_url and not all(p in tile_url for p in ("{z}", "{x}", "{y}")):
        found.add(name, "the tile URL needs {z}, {x} and {y}", field="map.tile_url")
    hours = data.get("hours", {})
    for day, value in hours.items():
        if day == "holidays":
            for item in value if isinstance(value, list) else [value]:
                if not (isinstance(item, str) and DATE.match(item)):
                    found.add(name, f"{item!r} is not a date like 2026-07-04",
                              field="hours.holidays")
        elif day not in WEEKDAYS:
            found.add(name, f"unknown day {day!r}", field=f"hours.{day}")
        elif value and not (isinstance(value, str) and HOURS.match(value)):
            found.add(name, "hours like 08:30-17:00 are expected", field=f"hours.{day}")
    reopen = data.get("reopen_window_days", 30)
    if not isinstance(reopen, int) or not 1 <= reopen <= 365:
        found.add(name, "a whole number of days from 1 to 365 is expected",
                  field="reopen_window_days")
    departments = []
    seen = set()
    for index, item in enumerate(data.get("departments", []), 1):
        label = f"departments[{index}]"
        dept_name = str(item.get("name", "")).strip() if isinstance(item, dict) else ""
        if not dept_name:
            found.add(name, "a department needs a name", field=f"{label}.name")
            continue
        if dept_name.lower() in seen:
            found.add(name, f"the department {dept_name!r} is listed twice", field=label)
        seen.add(dept_name.lower())
        email = str(item.get("email", "")).strip()
        if email and not EMAIL.match(email):
            found.add(name, f"{email!r} is not an e-mail address", field=f"{label}.email")
        departments.append(
            {"name": dept_name, "email": email or None, "phone": str(item.get("phone", "")) or None}
        )
    if not departments:
        found.add(name, "list at least one [[departments]]", field="departments")
    open311 = data.get("open311", {})
    if not isinstance(open311, dict):
        found.add(name, "a table [open311] is expected", field="open311")
        open311 = {}
    for key in open311:
        if key not in ("contact", "key_service"):
            found.add(name, f"unknown key {key!r}: [open311] knows contact and key_service",
                      field=f"open311.{key}")
    settings = {
        "name": str(data.get("name", "")).strip(),
        "jurisdiction_id": str(data.get("jurisdiction_id", "")).strip(),
        "timezone": timezone,
        "languages": languages,
        "public_url": str(public_url or "").rstrip("/"),
        "contact": str(data.get("contact", "")),
        "contact_es": str(data.get("contact_es", "")),
        "colours": {
            "primary": colours.get("primary", "#0b5c4a"),
            "on_primary": colours.get("on_primary", "#ffffff"),
        },
        "logo": data.get("logo") or None,
        "icon": data.get("icon") or None,
        "map": {"tile_url": tile_url, "attribution": map_.get("attribution", "")},
        "geocoder": {k: str(v) for k, v in (data.get("geocoder") or {}).items()
                     if k in ("domain", "scheme", "user_agent")},
        "reopen_window_days": reopen,
        "open311": {k: str(open311[k]).strip() for k in ("contact", "key_service")
                    if str(open311.get(k, "")).strip()},
        "hours": hours,
        "neighborhood_name_property": (data.get("neighborhoods") or {}).get("name_property",
                                                                            "name"),
    }
    return settings, departments


def read_icons(root: Path, found: Collector, settings: dict,
           logo: tuple[str, bytes] | None) -> dict[str, bytes] | None:
    """The app icons drawn from the pack's ``icon`` (or its PNG logo), or None."""
    icon_name = settings.get("icon")
    if icon_name:
        icon_name = str(icon_name)
        if "/" in icon_name or "\\" in icon_name or not icon_name.lower().endswith(
            (".png", ".jpg", ".jpeg", ".webp")
        ):
            found.add("city.toml", "the icon is a square .png (or .jpg, .webp) file beside "
                      "city.toml", field="icon")
            return None
        source, data = icon_name, read_bytes(root, icon_name, found, required=True)
    elif logo is not None and logo[0].lower().endswith(".png"):
        source, data = logo
    else:
        return None
    colour = branding.parse_hex((settings.get("colours") or {}).get("primary"))
    if data is None or colour is None:
        return None
    try:
        return icons.draw_all(data, colour)
    except icons.IconError as error:
        found.add(source, str(error), field="icon" if icon_name else "logo")
        return None
