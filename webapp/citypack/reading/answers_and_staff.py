"""``answers/*.md`` and ``staff.csv``: the knowledge answers and the staff accounts.

An answer carries TOML front matter between ``+++`` lines and may have a translation
beside it (``<slug>.es.md``); a staff row names a role, and for a liaison a neighborhood
of the pack. Staff come without passwords: they set their own from the welcome mail.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from webapp.citypack.problems import Collector
from webapp.citypack.reading.files import csv_rows, decoded_text

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

ROLES = ("staff", "liaison", "admin")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def read_answers(root: Path, found: Collector, languages: list[str], codes: set[str]) -> list[dict]:
    """The knowledge answers of ``answers/``, each with its translations beside it."""
    folder = root / "answers"
    if not folder.is_dir():
        return []
    answers = []
    for path in sorted(folder.glob("*.md")):
        stem = path.name[:-3]
        if "." in stem:
            continue  # a translation, read with its answer
        name = f"answers/{path.name}"
        text = decoded_text(name, path.read_bytes(), found)
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
            other_text = decoded_text(other_name, other.read_bytes(), found)
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


def read_staff(raw: bytes | None, found: Collector, departments: set[str], hoods: set[str]):
    """The staff and liaison accounts of ``staff.csv`` (none when the file is absent)."""
    if raw is None:
        return []
    people, seen = [], set()
    for line, row in csv_rows("staff.csv", raw, found, ("email", "name", "role")):
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
