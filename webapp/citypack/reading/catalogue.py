"""``services.csv`` (or ``services.json``) and ``questions.csv``: the service catalogue and
its questions.

A service's code, department and group are checked against the rest of the pack; a
question's datatype and choices against what Open311 service definitions allow.
"""

from __future__ import annotations

import re
from pathlib import Path

from webapp.citypack.problems import Collector
from webapp.citypack.reading.files import csv_rows, read_bytes, read_json

CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


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


def read_services(root: Path, found: Collector, departments: set[str]) -> list[dict]:
    """The services (``services.json``, else ``services.csv``) with their questions."""
    services: list[dict] = []
    json_raw = read_bytes(root, "services.json", found, required=False)
    if json_raw is not None:
        data = read_json("services.json", json_raw, found)
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
        raw = read_bytes(root, "services.csv", found, required=True)
        if raw is None:
            return []
        for line, row in csv_rows("services.csv", raw, found, ("code", "name", "department")):
            service = _service(row, {"file": "services.csv", "line": line}, found, departments)
            if service is not None:
                services.append(service)
        q_raw = read_bytes(root, "questions.csv", found, required=False)
        if q_raw is not None:
            by_code = {s["code"]: s for s in services}
            for line, row in csv_rows("questions.csv", q_raw, found,
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
