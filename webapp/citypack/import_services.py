"""Bring a city's catalogue over from its current Open311 GeoReport v2 endpoint:
``services.json`` and each ``services/<code>.json`` definition become services with
their questions. Remote codes are kept, so forwarding to that system still lines up.

Real endpoints differ in small ways, all accepted: ``metadata`` as a boolean or the
text "true" (FixMyStreet), numeric service codes and empty ``group``/``description``
(SeeClickFix), keywords as a list or a comma-separated text, a definition wrapped in
a list, choices whose keys are numbers. Everything is read first; the database is
written in one transaction only once every document has been read and checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from webapp.citypack import catalogue
from webapp.citypack.reading.catalogue import DATATYPES
from webapp.citypack.remote import RemoteError, get_json
from webapp.plumbing.extensions import db

MAX_SERVICES = 2000
# Remote codes are kept as they are (FixMyStreet uses category names with spaces).
REMOTE_CODE = re.compile(r"^[^/\\\x00-\x1f]{1,64}$")
DEFAULT_DEPARTMENT = "Imported services"


@dataclass
class ServicesReport:
    """What the import did."""

    changes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seen: int = 0


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def base_of(url: str) -> str:
    """The endpoint's root, whether given as the root or as its services.json."""
    url = url.split("?", 1)[0]
    for tail in ("services.json", "services.xml", "discovery.json"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    return url if url.endswith("/") else url + "/"


def _questions(definition, code: str) -> list[dict]:
    if isinstance(definition, list):
        definition = definition[0] if definition else {}
    if not isinstance(definition, dict):
        raise RemoteError(f"the definition of service {code!r} is not an object")
    questions, seen = [], set()
    for index, item in enumerate(definition.get("attributes") or [], 1):
        if not isinstance(item, dict) or item.get("code") in (None, ""):
            continue
        q_code = str(item["code"])[:64]
        if q_code in seen:
            continue
        seen.add(q_code)
        datatype = str(item.get("datatype") or "string").lower()
        values = []
        for value in item.get("values") or []:
            if isinstance(value, dict) and value.get("key") not in (None, ""):
                values.append({"key": str(value["key"]),
                               "name": str(value.get("name") or value["key"])})
        questions.append({
            "code": q_code,
            "datatype": datatype if datatype in DATATYPES else "string",
            "required": _truthy(item.get("required")),
            "variable": item.get("variable") is None or _truthy(item.get("variable")),
            "question": str(item.get("description") or q_code),
            "datatype_description": str(item.get("datatype_description") or ""),
            "values": values,
            "order": item.get("order") or index,
        })
    questions.sort(key=lambda q: (int(q["order"]) if str(q["order"]).isdigit() else 0))
    return questions


def fetch_catalogue(url: str, *, timeout: float, jurisdiction: str | None = None):
    """[(entry, questions)] read from the endpoint (RemoteError on any failure)."""
    base = base_of(url)
    params = {"jurisdiction_id": jurisdiction} if jurisdiction else None
    entries = get_json(base + "services.json", params, timeout=timeout)
    if isinstance(entries, dict) and isinstance(entries.get("services"), list):
        entries = entries["services"]
    if not isinstance(entries, list):
        raise RemoteError(f"{base}services.json is not a list of services")
    if len(entries) > MAX_SERVICES:
        raise RemoteError(f"{base}services.json lists {len(entries)} services; at most "
                          f"{MAX_SERVICES} are imported at once")
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("service_code") in (None, ""):
            continue
        code = str(entry["service_code"])
        questions = []
        if _truthy(entry.get("metadata")):
            definition = get_json(f"{base}services/{quote(code, safe='')}.json", params,
                                  timeout=timeout)
            questions = _questions(definition, code)
        found.append((entry, questions))
    return found


def import_services(url: str, *, timeout: float, jurisdiction: str | None = None,
                    department: str | None = None) -> ServicesReport:
    """Read the catalogue, then upsert it in one transaction (rolled back on failure)."""
    fetched = fetch_catalogue(url, timeout=timeout, jurisdiction=jurisdiction)
    report = ServicesReport(seen=len(fetched))
    try:
        for entry, questions in fetched:
            code = str(entry["service_code"])
            if not REMOTE_CODE.match(code):
                report.skipped.append(f"{code!r}: not a usable service code")
                continue
            keywords = entry.get("keywords") or ""
            if isinstance(keywords, list):
                keywords = ", ".join(str(k) for k in keywords)
            group = str(entry.get("group") or "").strip()
            dept_name = department or group or DEFAULT_DEPARTMENT
            dept, what = catalogue.upsert_department(dept_name[:120], None, None)
            if what == "created":
                report.changes.append(f"department {dept_name}: created")
            values = {
                "service_code": code,
                "name": str(entry.get("service_name") or code).strip()[:120],
                "description": str(entry.get("description") or "").strip(),
                "group": group[:80],
                "keywords": str(keywords).strip(),
            }
            _service, changes = catalogue.upsert_service(values, dept, questions)
            if changes:
                report.changes.append(f"service {code}: {', '.join(changes)}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
