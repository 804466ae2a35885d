"""The city's own texts in other languages, edited side by side with the English.

One page per language (``/admin/translations?locale=es``): every service, question (with
its choices), response template and knowledge answer, the English on the left and the
translation on the right. A blank field falls back to English for residents.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.admin.blueprint import bp
from webapp.content_i18n import CONTENT_FIELDS, missing_fields, set_translation, translation_of
from webapp.domain.intake.answers import MAX_BODY
from webapp.i18n import locale_name
from webapp.models import Answer, ResponseTemplate, Role, Service, ServiceAttribute
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db

MAX_LENGTH = {"name": 120, "group": 80, "title": 200, "summary": 300}
MAX_TEXT = 4000
LONG_FIELDS = {"description", "datatype_description", "body", "summary"}


def _locale() -> str:
    code = request.args.get("locale") or ""
    others = [c for c in current_app.config["SUPPORTED_LOCALES"] if c != "en"]
    if code not in others:
        abort(404)
    return code


def _rows() -> list:
    services = db.session.scalars(
        select(Service).options(selectinload(Service.attributes)).order_by(Service.name)
    ).all()
    rows: list = []
    for service in services:
        rows.append(service)
        rows.extend(service.attributes)
    rows.extend(db.session.scalars(select(ResponseTemplate).order_by(ResponseTemplate.title)))
    rows.extend(db.session.scalars(select(Answer).order_by(Answer.title)))
    return rows


def _kind(row) -> str:
    return {
        Service: "service",
        ServiceAttribute: "attribute",
        ResponseTemplate: "template",
        Answer: "answer",
    }[type(row)]


def _field_name(row, field: str) -> str:
    return f"t-{_kind(row)}-{row.id}-{field}"


def _clean(text: str | None, field: str, row=None) -> str:
    text = (text or "").strip()
    if isinstance(row, Answer) and field == "body":
        return text[:MAX_BODY]  # an answer's Markdown is as long as its English may be
    return text[: MAX_LENGTH.get(field, MAX_TEXT)]


def _save(locale: str, rows: list) -> None:
    form = request.form
    for row in rows:
        values: dict = {}
        for field in CONTENT_FIELDS[type(row)]:
            name = _field_name(row, field)
            if name in form:
                values[field] = _clean(form.get(name), field, row)
        if isinstance(row, ServiceAttribute):
            choices = {}
            for value in row.values or []:
                key = str(value.get("key"))
                choices[key] = _clean(form.get(_field_name(row, f"values.{key}")), "name")
            values["values"] = choices
        set_translation(row, locale, values)


@bp.route("/translations", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def translations():
    """Services, questions, choices, templates and answers: English beside the other language."""
    locale = _locale()
    rows = _rows()
    if request.method == "POST":
        _save(locale, rows)
        db.session.commit()
        flash(_("Translations saved."))
        return redirect(url_for("admin.translations", locale=locale), code=303)
    entries = []
    for row in rows:
        mine = translation_of(row, locale)
        fields = [
            {
                "label": field,
                "name": _field_name(row, field),
                "english": getattr(row, field) or "",
                "value": mine.get(field, ""),
                "long": field in LONG_FIELDS,
                "rows": 12 if isinstance(row, Answer) and field == "body" else 3,
            }
            for field in CONTENT_FIELDS[type(row)]
            if getattr(row, field)
        ]
        if isinstance(row, ServiceAttribute):
            names = mine.get("values") or {}
            fields += [
                {
                    "label": str(value.get("key")),
                    "name": _field_name(row, f"values.{value.get('key')}"),
                    "english": value.get("name") or "",
                    "value": names.get(str(value.get("key")), ""),
                    "long": False,
                    "rows": 1,
                }
                for value in row.values or []
            ]
        entries.append(
            {
                "kind": _kind(row),
                "anchor": f"{_kind(row)}-{row.id}",
                "heading": getattr(row, "name", None) or getattr(row, "title", None) or row.code,
                "fields": fields,
                "missing": len(missing_fields(row, locale)),
            }
        )
    return render_template(
        "admin/translations.html",
        locale=locale,
        language=locale_name(locale),
        entries=entries,
        missing=sum(e["missing"] for e in entries),
    )
