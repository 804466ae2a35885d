"""The city's own texts in other languages, edited side by side with the English.

``/admin/translations?locale=es`` lists every service, question (with its choices),
response template and knowledge answer (and an answer's topics), with what each still
misses; ``&missing=1`` keeps only those with something missing. ``&item=service-3``
edits one of them: each field by its name in plain words, the English beside the
translation on a wide screen, above it on a phone. "Save and next" walks the list. A
blank field falls back to English for residents.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
# What each field is, in words an admin uses (a question's "description" is the question).
FIELD_LABELS = {
    "name": _l("Name"),
    "description": _l("Description"),
    "group": _l("Group"),
    "datatype_description": _l("Help text under the question"),
    "title": _l("Title"),
    "body": _l("Text"),
    "summary": _l("Summary"),
    "keywords": _l("Search words"),
}
KIND_LABELS = {
    "service": _l("Service"),
    "attribute": _l("Question"),
    "template": _l("Response template"),
    "answer": _l("Knowledge answer"),
}


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


def _field_label(row, field: str) -> str:
    if isinstance(row, ServiceAttribute) and field == "description":
        return _("Question")
    return str(FIELD_LABELS.get(field, field))


def _save(locale: str, rows: list) -> None:
    """Store the fields the form holds (one item's, or more); others stay as they were."""
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
                name = _field_name(row, f"values.{value.get('key')}")
                if name in form:
                    choices[str(value.get("key"))] = _clean(form.get(name), "name")
            if choices:
                kept = dict(translation_of(row, locale).get("values") or {})
                kept.update(choices)
                values["values"] = kept
        if isinstance(row, Answer):
            topics = {}
            for topic in row.topics:
                name = _field_name(row, f"topics.{topic}")
                if name in form:
                    topics[topic] = _clean(form.get(name), "group")
            if topics:
                kept = dict(translation_of(row, locale).get("topics") or {})
                kept.update(topics)
                values["topics"] = kept
        if values:
            set_translation(row, locale, values)


def _missing(row, locale: str) -> int:
    """How many of the row's texts have no translation yet (an answer's topics too)."""
    count = len(missing_fields(row, locale))
    if isinstance(row, Answer):
        names = translation_of(row, locale).get("topics") or {}
        count += sum(1 for topic in row.topics if topic not in names)
    return count


def _fields(row, locale: str) -> list[dict]:
    """One item's fields: its label in words, the English and the translation so far."""
    mine = translation_of(row, locale)
    fields = [
        {
            "label": _field_label(row, field),
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
                "label": _("Choice: %(choice)s", choice=value.get("name") or value.get("key")),
                "name": _field_name(row, f"values.{value.get('key')}"),
                "english": value.get("name") or "",
                "value": names.get(str(value.get("key")), ""),
                "long": False,
                "rows": 1,
            }
            for value in row.values or []
        ]
    if isinstance(row, Answer):
        names = mine.get("topics") or {}
        fields += [
            {
                "label": _("Topic: %(topic)s", topic=topic),
                "name": _field_name(row, f"topics.{topic}"),
                "english": topic,
                "value": names.get(topic, ""),
                "long": False,
                "rows": 1,
            }
            for topic in row.topics
        ]
    return fields


def _entry(row, locale: str) -> dict:
    kind = _kind(row)
    return {
        "kind": kind,
        "kind_label": str(KIND_LABELS[kind]),
        "key": f"{kind}-{row.id}",
        "heading": getattr(row, "name", None) or getattr(row, "title", None) or row.code,
        "missing": _missing(row, locale),
        "row": row,
    }


@bp.route("/translations", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def translations():
    """The list of texts to translate, or one of them beside its English (``item``)."""
    locale = _locale()
    missing_only = request.args.get("missing") == "1"
    entries = [_entry(row, locale) for row in _rows()]
    shown = [e for e in entries if e["missing"]] if missing_only else entries
    key = request.args.get("item")
    if key is None:
        if request.method == "POST":  # a whole-page form (or a script) saving many at once
            _save(locale, [e["row"] for e in entries])
            db.session.commit()
            flash(_("Translations saved."))
            return redirect(url_for("admin.translations", locale=locale), code=303)
        return render_template(
            "admin/translations.html",
            locale=locale,
            language=locale_name(locale),
            entries=shown,
            missing_only=missing_only,
            missing=sum(e["missing"] for e in entries),
        )
    entry = next((e for e in entries if e["key"] == key), None)
    if entry is None:
        abort(404)
    order = [e["key"] for e in shown] or [key]
    place = order.index(key) if key in order else -1
    after = order[place + 1] if 0 <= place < len(order) - 1 else None
    before = order[place - 1] if place > 0 else None
    filters = {"missing": "1"} if missing_only else {}
    if request.method == "POST":
        _save(locale, [entry["row"]])
        db.session.commit()
        flash(_("Translations saved."))
        going = after if request.form.get("next") and after else key
        if request.form.get("next") and missing_only and _missing(entry["row"], locale) == 0:
            # The saved item leaves the "missing only" list; the next one is still next.
            going = after or None
        if going is None:
            return redirect(url_for("admin.translations", locale=locale, **filters), code=303)
        return redirect(
            url_for("admin.translations", locale=locale, item=going, **filters), code=303
        )
    return render_template(
        "admin/translation_item.html",
        locale=locale,
        language=locale_name(locale),
        entry=entry,
        fields=_fields(entry["row"], locale),
        position=place + 1,
        count=len(order),
        before=before,
        after=after,
        filters=filters,
        missing_only=missing_only,
    )
