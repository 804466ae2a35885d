"""Read a city pack folder into plain data, checking everything before the database is
touched. Every problem names its file, line and field; all are reported at once.

Layout (see docs/city-packs.md)::

    city.toml               settings, departments, colours, map, geocoder, hours
    boundary.geojson        the city limits (Polygon or MultiPolygon, WGS84)
    neighborhoods.geojson   a FeatureCollection; the name property is set in city.toml
    services.csv            one row per service (or services.json with everything)
    questions.csv           the services' questions and their choices
    answers/<slug>.md       knowledge answers (TOML front matter between +++ lines),
    answers/<slug>.es.md    and the same answer in another language
    staff.csv               staff and liaison accounts (no passwords)
    logo, icon              the logo (.svg or .png) and the square image app icons are
                            drawn from (a PNG logo serves when no icon is named)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.citypack import branding, geometry, icons
from webapp.citypack.problems import Collector

MAX_FILE_BYTES = 20 * 1024 * 1024
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
ROLES = ("staff", "liaison", "admin")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Pack:
    """Everything a pack says, checked and ready to apply."""

    root: Path
    settings: dict
    departments: list[dict]
    boundary: dict
    neighborhoods: list[dict]
    services: list[dict]
    answers: list[dict]
    staff: list[dict]
    logo: tuple[str, bytes] | None = None
    icons: dict[str, bytes] | None = None
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)


def _read_bytes(root: Path, name: str, found: Collector, *, required: bool) -> bytes | None:
    path = root / name
    if not path.is_file():
        if required:
            found.add(name, "the file is missing")
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        found.add(name, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        return None
    return path.read_bytes()


def _text(name: str, raw: bytes, found: Collector) -> str | None:
    """UTF-8 text (a byte-order mark is allowed), or a problem naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        found.add(
            name,
            f"the file is not UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8 "
            "(in a spreadsheet: CSV UTF-8)",
            line=line,
        )
        return None


def _json(name: str, raw: bytes, found: Collector):
    text = _text(name, raw, found)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        found.add(name, f"not valid JSON: {error.msg} (column {error.colno})", line=error.lineno)
        return None


def _csv_rows(name: str, raw: bytes, found: Collector, required_columns: tuple[str, ...]):
    """(line, row) for each data row; a stray quote or a short row is a problem."""
    text = _text(name, raw, found)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = reader.fieldnames or []
        missing = [c for c in required_columns if c not in header]
        if missing:
            found.add(name, f"missing column(s): {', '.join(missing)}", line=1)
            return []
        for row in reader:
            line = reader.line_num
            if None in row:
                found.add(name, "this row has more values than the header has columns", line=line)
                continue
            if any(v is None for v in row.values()):
                found.add(name, "this row has fewer values than the header has columns", line=line)
                continue
            rows.append((line, {k.strip(): (v or "").strip() for k, v in row.items()}))
    except csv.Error as error:
        found.add(
            name,
            f"the CSV cannot be read ({error}); look for a stray or unclosed quote",
            line=reader.line_num,
        )
        return []
    return rows


# --- city.toml ---------------------------------------------------------------------


def _settings(raw: bytes, found: Collector, supported_locales) -> tuple[dict, list[dict]]:
    name = "city.toml"
    text = _text(name, raw, found)
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


def _icons(root: Path, found: Collector, settings: dict,
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
        source, data = icon_name, _read_bytes(root, icon_name, found, required=True)
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


# --- geography -----------------------------------------------------------------------


def _boundary(raw: bytes, found: Collector, timezone) -> dict | None:
    name = "boundary.geojson"
    data = _json(name, raw, found)
    if data is None:
        return None
    polygon, problems = geometry.check_polygon(data, timezone=timezone)
    for problem in problems:
        found.add(name, problem)
    return polygon


def _neighborhoods(raw: bytes, found: Collector, timezone, name_property: str) -> list[dict]:
    name = "neighborhoods.geojson"
    data = _json(name, raw, found)
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


# --- services ------------------------------------------------------------------------


def _choices(text: str) -> list[tuple[str, str]]:
    """``key:Name|key:Name`` → [(key, name)]."""
    pairs = []
    for part in text.split("|"):
        if part.strip():
            key, _sep, label = part.partition(":")
            pairs.append((key.strip(), label.strip() or key.strip()))
    return pairs


def _service(item: dict, where: dict, found: Collector, departments: set[str]) -> dict | None:
    file, line = where["file"], where.get("line")
    code = str(item.get("code", "")).strip()
    ok = True
    if not CODE.match(code):
        found.add(file, "a service code of letters, digits, _ . - (up to 64) is needed",
                  line=line, field="code")
        ok = False
    if not str(item.get("name", "")).strip():
        found.add(file, "the service needs a name", line=line, field="name")
        ok = False
    dept = str(item.get("department", "")).strip()
    if not dept:
        found.add(file, f"the service {code!r} has no department", line=line, field="department")
        ok = False
    elif dept.lower() not in departments:
        found.add(file, f"the department {dept!r} is not in city.toml's [[departments]]",
                  line=line, field="department")
        ok = False
    days = item.get("expected_days")
    if days in ("", None):
        days = None
    else:
        try:
            days = int(days)
            if not 0 < days <= 3650:
                raise ValueError
        except (TypeError, ValueError):
            found.add(file, f"{item.get('expected_days')!r} is not a number of days",
                      line=line, field="expected_days")
            ok = False
    keywords = item.get("keywords", "")
    if isinstance(keywords, list):
        keywords = ", ".join(keywords)
    if not ok:
        return None
    return {
        "code": code,
        "name": str(item["name"]).strip()[:120],
        "description": str(item.get("description", "")).strip(),
        "group": str(item.get("group", "")).strip()[:80],
        "department": dept,
        "expected_days": days,
        "keywords": str(keywords).strip(),
        "public": str(item.get("public", "true")).lower() not in ("false", "no", "0"),
        "es": {
            k: str(item.get(f"{k}_es", "")).strip()
            for k in ("name", "description", "group")
            if str(item.get(f"{k}_es", "")).strip()
        },
        "questions": [],
        "where": where,
    }


def _question(item: dict, file: str, line: int | None, found: Collector) -> dict | None:
    code = str(item.get("code", "")).strip()
    ok = True
    if not CODE.match(code):
        found.add(file, "a question code is needed", line=line, field="code")
        ok = False
    datatype = str(item.get("datatype", "string")).strip() or "string"
    if datatype not in DATATYPES:
        found.add(file, f"unknown datatype {datatype!r} ({', '.join(DATATYPES)})",
                  line=line, field="datatype")
        ok = False
    if not str(item.get("question", "")).strip():
        found.add(file, "the question's text is missing", line=line, field="question")
        ok = False
    choices = item.get("choices", [])
    if isinstance(choices, str):
        choices = [{"key": k, "name": n} for k, n in _choices(choices)]
    choices_es = item.get("choices_es", {})
    if isinstance(choices_es, str):
        choices_es = dict(_choices(choices_es))
    if datatype.endswith("valuelist") and not choices:
        found.add(file, "a list question needs choices (key:Name|key:Name)", line=line,
                  field="choices")
        ok = False
    keys = [str(c.get("key")) for c in choices]
    if len(set(keys)) != len(keys):
        found.add(file, "two choices share a key", line=line, field="choices")
        ok = False
    unknown = set(choices_es) - set(keys)
    if unknown:
        found.add(file, f"translated choices {sorted(unknown)} are not among the choices",
                  line=line, field="choices_es")
        ok = False
    required = str(item.get("required", "false")).strip().lower() in ("true", "yes", "1")
    if not ok:
        return None
    es = {}
    if str(item.get("question_es", "")).strip():
        es["description"] = str(item["question_es"]).strip()
    if choices_es:
        es["values"] = {str(k): str(v) for k, v in choices_es.items()}
    return {
        "code": code,
        "datatype": datatype,
        "required": required,
        "question": str(item["question"]).strip(),
        "values": [{"key": str(c["key"]), "name": str(c.get("name") or c["key"])}
                   for c in choices],
        "es": es,
    }


def _services(root: Path, found: Collector, departments: set[str]) -> list[dict]:
    services: list[dict] = []
    json_raw = _read_bytes(root, "services.json", found, required=False)
    if json_raw is not None:
        data = _json("services.json", json_raw, found)
        if data is None:
            return []
        items = data.get("services") if isinstance(data, dict) else data
        if not isinstance(items, list):
            found.add("services.json", "a list of services is expected")
            return []
        for index, item in enumerate(items, 1):
            where = {"file": "services.json", "field": f"services[{index}]"}
            if not isinstance(item, dict):
                found.add("services.json", "a service must be an object", field=where["field"])
                continue
            service = _service(item, where, found, departments)
            if service is None:
                continue
            for question in item.get("questions") or []:
                q = _question(question if isinstance(question, dict) else {},
                              "services.json", None, found)
                if q:
                    service["questions"].append(q)
            services.append(service)
    else:
        raw = _read_bytes(root, "services.csv", found, required=True)
        if raw is None:
            return []
        for line, row in _csv_rows("services.csv", raw, found, ("code", "name", "department")):
            service = _service(row, {"file": "services.csv", "line": line}, found, departments)
            if service is not None:
                services.append(service)
        q_raw = _read_bytes(root, "questions.csv", found, required=False)
        if q_raw is not None:
            by_code = {s["code"]: s for s in services}
            for line, row in _csv_rows("questions.csv", q_raw, found,
                                       ("service", "code", "question")):
                owner = by_code.get(row["service"])
                if owner is None:
                    found.add("questions.csv", f"no service with code {row['service']!r}",
                              line=line, field="service")
                    continue
                q = _question(row, "questions.csv", line, found)
                if q:
                    owner["questions"].append(q)
    seen: dict[str, dict] = {}
    for service in services:
        code = service["code"]
        if code in seen:
            where = service["where"]
            first = seen[code]["where"]
            found.add(where["file"],
                      f"duplicate service code {code!r} (first at line "
                      f"{first.get('line') or first.get('field')})",
                      line=where.get("line"), field="code")
        seen[code] = service
        q_codes = [q["code"] for q in service["questions"]]
        if len(set(q_codes)) != len(q_codes):
            found.add(service["where"]["file"], f"the service {code!r} has two questions "
                      "with the same code", line=service["where"].get("line"), field="code")
    if not services:
        found.add("services.csv", "the catalogue lists no service")
    return services


# --- answers and staff -----------------------------------------------------------------


def _front_matter(name: str, text: str, found: Collector) -> tuple[dict, str] | None:
    if not text.startswith("+++"):
        found.add(name, "the answer must start with front matter between +++ lines", line=1)
        return None
    end = text.find("\n+++", 3)
    if end < 0:
        found.add(name, "the front matter is not closed by a +++ line", line=1)
        return None
    try:
        meta = tomllib.loads(text[3:end])
    except tomllib.TOMLDecodeError as error:
        found.add(name, f"the front matter is not valid TOML: {error}", line=1)
        return None
    return meta, text[end + 4:].strip()


def _answers(root: Path, found: Collector, languages: list[str], codes: set[str]) -> list[dict]:
    folder = root / "answers"
    if not folder.is_dir():
        return []
    answers = []
    for path in sorted(folder.glob("*.md")):
        stem = path.name[:-3]
        if "." in stem:
            continue  # a translation, read with its answer
        name = f"answers/{path.name}"
        text = _text(name, path.read_bytes(), found)
        parsed = _front_matter(name, text, found) if text is not None else None
        if parsed is None:
            continue
        meta, body = parsed
        slug = str(meta.get("slug") or stem)
        if not SLUG.match(slug):
            found.add(name, "the slug may use lower-case letters, digits and hyphens",
                      field="slug")
            continue
        if not str(meta.get("title", "")).strip():
            found.add(name, "the answer needs a title", field="title")
            continue
        if not body:
            found.add(name, "the answer has no text under its front matter")
            continue
        unknown = [c for c in meta.get("services", []) if c not in codes]
        if unknown:
            found.add(name, f"unknown service code(s) {unknown}", field="services")
        answer = {
            "slug": slug,
            "title": str(meta["title"]).strip(),
            "summary": str(meta.get("summary", "")).strip(),
            "keywords": ", ".join(meta["keywords"]) if isinstance(meta.get("keywords"), list)
            else str(meta.get("keywords", "")),
            "services": [c for c in meta.get("services", []) if c in codes],
            "topics": [str(t) for t in meta.get("topics", [])],
            "body": body,
            "translations": {},
        }
        for locale in languages[1:]:
            other = folder / f"{stem}.{locale}.md"
            if not other.is_file():
                continue
            other_name = f"answers/{other.name}"
            other_text = _text(other_name, other.read_bytes(), found)
            parsed_other = (_front_matter(other_name, other_text, found)
                            if other_text is not None else None)
            if parsed_other is None:
                continue
            other_meta, other_body = parsed_other
            answer["translations"][locale] = {
                "title": str(other_meta.get("title", "")),
                "summary": str(other_meta.get("summary", "")),
                "keywords": ", ".join(other_meta["keywords"])
                if isinstance(other_meta.get("keywords"), list)
                else str(other_meta.get("keywords", "")),
                "body": other_body,
            }
        answers.append(answer)
    for path in sorted(folder.glob("*.*.md")):
        stem, _dot, locale = path.name[:-3].rpartition(".")
        if locale not in languages:
            found.add(f"answers/{path.name}",
                      f"the language {locale!r} is not in city.toml's languages")
        elif not (folder / f"{stem}.md").is_file():
            found.add(f"answers/{path.name}", f"there is no answers/{stem}.md to translate")
    return answers


def _staff(raw: bytes | None, found: Collector, departments: set[str], hoods: set[str]):
    if raw is None:
        return []
    people, seen = [], set()
    for line, row in _csv_rows("staff.csv", raw, found, ("email", "name", "role")):
        email = row["email"].lower()
        if not EMAIL.match(email):
            found.add("staff.csv", f"{row['email']!r} is not an e-mail address", line=line,
                      field="email")
            continue
        if email in seen:
            found.add("staff.csv", f"{email} is listed twice", line=line, field="email")
        seen.add(email)
        if row["role"] not in ROLES:
            found.add("staff.csv", f"role must be one of {', '.join(ROLES)}", line=line,
                      field="role")
            continue
        if "password" in row:
            found.add("staff.csv", "a pack holds no passwords: remove the column (each "
                      "person gets a set-your-password e-mail)", line=line, field="password")
        dept = row.get("department", "")
        if dept and dept.lower() not in departments:
            found.add("staff.csv", f"unknown department {dept!r}", line=line, field="department")
        hood = row.get("neighborhood", "")
        if hood and hood.lower() not in hoods:
            found.add("staff.csv", f"unknown neighborhood {hood!r}", line=line,
                      field="neighborhood")
        if row["role"] == "liaison" and not hood:
            found.add("staff.csv", "a liaison needs a neighborhood", line=line,
                      field="neighborhood")
        people.append({"email": email, "name": row["name"], "role": row["role"],
                       "department": dept or None, "neighborhood": hood or None})
    return people


def _fingerprint(root: Path) -> tuple[str, list[str]]:
    digest = hashlib.sha256()
    names = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or rel.lower().startswith("readme"):
            continue
        names.append(rel)
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest(), names


def read_pack(root: str | Path, supported_locales=("en", "es")) -> Pack:
    """Read and check a pack; raises PackError listing every problem found."""
    root = Path(root)
    found = Collector()
    if not root.is_dir():
        found.add(str(root), "no such folder")
        found.raise_if_any()
    raw = _read_bytes(root, "city.toml", found, required=True)
    found.raise_if_any()
    settings, departments = _settings(raw, found, tuple(supported_locales))
    timezone = settings.get("timezone")
    boundary_raw = _read_bytes(root, "boundary.geojson", found, required=True)
    boundary = _boundary(boundary_raw, found, timezone) if boundary_raw else None
    hoods_raw = _read_bytes(root, "neighborhoods.geojson", found, required=False)
    hoods = (
        _neighborhoods(hoods_raw, found, timezone, settings.get("neighborhood_name_property",
                                                                "name"))
        if hoods_raw
        else []
    )
    if boundary and hoods:
        from shapely.geometry import shape

        city = shape(boundary)
        for hood in hoods:
            if not city.intersects(shape(hood["geojson"])):
                found.add("neighborhoods.geojson",
                          f"{hood['name']} lies wholly outside the city boundary")
    dept_names = {d["name"].lower() for d in departments}
    services = _services(root, found, dept_names)
    answers = _answers(root, found, settings.get("languages") or ["en"],
                       {s["code"] for s in services})
    staff = _staff(_read_bytes(root, "staff.csv", found, required=False), found, dept_names,
                   {h["name"].lower() for h in hoods})
    logo = None
    if settings.get("logo"):
        logo_name = str(settings["logo"])
        if "/" in logo_name or "\\" in logo_name or not logo_name.lower().endswith(
            (".svg", ".png")
        ):
            found.add("city.toml", "the logo is a .svg or .png file beside city.toml",
                      field="logo")
        else:
            data = _read_bytes(root, logo_name, found, required=True)
            if data is not None:
                logo = (logo_name, data)
    icons = _icons(root, found, settings, logo)
    found.raise_if_any()
    fingerprint, files = _fingerprint(root)
    return Pack(
        root=root,
        settings=settings,
        departments=departments,
        boundary=boundary,
        neighborhoods=hoods,
        services=services,
        answers=answers,
        staff=staff,
        logo=logo,
        icons=icons,
        fingerprint=fingerprint,
        files=files,
    )
