"""Upserts of the catalogue by natural key (department name, service code, question
code) that say what they changed: shared by the city pack and the catalogue import, so
applying the same input twice changes nothing and a changed input reports each change.
"""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.content_i18n import set_translation
from webapp.models import Department, Service, ServiceAttribute
from webapp.plumbing.extensions import db


def assign(row, values: dict) -> list[str]:
    """Set each field that differs; returns the names of those that changed."""
    changed = []
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


def translate(row, locale: str, values: dict) -> bool:
    """Store ``locale`` texts on a row when they differ from what it holds."""
    before = dict(row.translations or {})
    set_translation(row, locale, values)
    return (row.translations or {}) != before


def upsert_department(name: str, email: str | None, phone: str | None) -> tuple[Department, str]:
    """(department, "created" | "updated" | "") by name, case-insensitively."""
    found = db.session.scalars(
        select(Department).where(func.lower(Department.name) == name.lower())
    ).first()
    if found is None:
        found = Department(name=name, email=email, phone=phone)
        db.session.add(found)
        db.session.flush()
        return found, "created"
    return found, "updated" if assign(found, {"name": name, "email": email, "phone": phone}) else ""


def upsert_service(values: dict, department: Department | None, questions: list[dict],
                   translations: dict[str, dict] | None = None) -> tuple[Service, list[str]]:
    """(service, what changed) by code; ``questions`` are upserted by their code and
    questions no longer listed are removed (answers already given stay on requests)."""
    code = values["service_code"]
    service = db.session.scalars(select(Service).where(Service.service_code == code)).first()
    changes: list[str] = []
    if service is None:
        service = Service(service_code=code, active=True, public=True)
        db.session.add(service)
        changes.append("created")
    fields = {k: v for k, v in values.items() if k != "service_code"}
    fields["department_id"] = department.id if department else None
    if "created" not in changes:
        changes += assign(service, {**fields, "active": True})
    else:
        assign(service, fields)
    for locale, texts in (translations or {}).items():
        if translate(service, locale, texts):
            changes.append(f"{locale} texts")
    wanted = {q["code"]: q for q in questions}
    for attribute in list(service.attributes):
        if attribute.code not in wanted:
            service.attributes.remove(attribute)
            changes.append(f"question {attribute.code} removed")
    existing = {a.code: a for a in service.attributes}
    for order, question in enumerate(questions, 1):
        attribute = existing.get(question["code"])
        attr_values = {
            "datatype": question["datatype"],
            "required": question["required"],
            "order": order,
            "description": question["question"],
            "datatype_description": question.get("datatype_description", ""),
            "values": question["values"],
            "variable": question.get("variable", True),
        }
        if attribute is None:
            attribute = ServiceAttribute(code=question["code"], **attr_values)
            service.attributes.append(attribute)
            changes.append(f"question {question['code']} added")
        elif assign(attribute, attr_values):
            changes.append(f"question {question['code']} changed")
        for locale, texts in (question.get("translations") or {}).items():
            if translate(attribute, locale, texts):
                changes.append(f"question {question['code']} {locale} texts")
    db.session.flush()
    return service, changes
