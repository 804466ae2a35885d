"""The city's own texts in other languages: services, their questions, response templates
and knowledge answers.

Each translatable row has a ``translations`` JSON column holding other languages' values,
``{"es": {"name": "Bache", "description": "..."}}``; English lives in the ordinary
columns. A missing or empty translation falls back to English field by field, so a
half-translated service still reads whole. A question's choices are translated by key:
``{"es": {"values": {"small": "Pequeño"}}}``.

Edited side by side in the admin (``/admin/translations``); read with :func:`localized`
(templates: ``localized(service, "name")``) and :func:`localized_values`.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from webapp.models import Answer, ResponseTemplate, Service, ServiceAttribute
from webapp.plumbing.extensions import db

# Which columns each kind of content translates, in the order the admin shows them.
CONTENT_FIELDS: dict[type, tuple[str, ...]] = {
    Service: ("name", "description", "group"),
    ServiceAttribute: ("description", "datatype_description"),
    ResponseTemplate: ("title", "body"),
    Answer: ("title", "summary", "keywords", "body"),
}


def current_locale() -> str:
    """The language being rendered now (forced for a notification, else the reader's)."""
    try:
        return str(get_locale())
    except RuntimeError:  # outside an app context
        return "en"


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def translation_of(row, locale: str) -> dict:
    """The row's values in ``locale`` (``{}`` when it has none)."""
    return ((row.translations or {}).get(locale)) or {}


def localized(row, field: str, locale: str | None = None) -> str:
    """``row.field`` in ``locale`` (default: the current language), else in English."""
    english = getattr(row, field)
    locale = locale or current_locale()
    if locale == _default_locale():
        return english
    value = translation_of(row, locale).get(field)
    return value if isinstance(value, str) and value.strip() else english


def service_names(locale: str | None = None) -> dict[str, str]:
    """``{service_code: name}`` in ``locale`` for every service that has its own name there.

    Built once per response by the readers of many rows (the map list, clusters), which
    then look a row's code up instead of translating row by row; a code missing from
    the mapping keeps the English name its row carries. Empty for the default language.
    """
    locale = locale or current_locale()
    if locale == _default_locale():
        return {}
    rows = db.session.execute(
        select(Service.service_code, Service.name, Service.translations).where(
            Service.translations.is_not(None)
        )
    )
    return {row.service_code: localized(row, "name", locale) for row in rows}


def localized_values(attribute: ServiceAttribute, locale: str | None = None) -> list[dict]:
    """A question's choices ``[{"key", "name"}]`` with names in ``locale`` where given."""
    locale = locale or current_locale()
    names = translation_of(attribute, locale).get("values") or {}
    return [
        {**value, "name": names.get(str(value.get("key"))) or value.get("name")}
        for value in attribute.values or []
    ]


def localized_group(services: list) -> str:
    """A group's name in the current language: any of its services may carry it."""
    for service in services:
        name = localized(service, "group")
        if name != service.group:
            return name
    return services[0].group if services else ""


def set_translation(row, locale: str, values: dict[str, str]) -> None:
    """Store ``values`` (field → text; blank removes) for ``locale`` on ``row``."""
    every = dict(row.translations or {})
    mine = dict(every.get(locale) or {})
    for field, text in values.items():
        if isinstance(text, dict):
            kept = {k: v.strip() for k, v in text.items() if isinstance(v, str) and v.strip()}
            if kept:
                mine[field] = kept
            else:
                mine.pop(field, None)
        elif isinstance(text, str) and text.strip():
            mine[field] = text.strip()
        else:
            mine.pop(field, None)
    if mine:
        every[locale] = mine
    else:
        every.pop(locale, None)
    row.translations = every or None  # a new dict so the JSON column sees the change


def missing_fields(row, locale: str) -> list[str]:
    """The row's non-empty English fields that have no ``locale`` value yet."""
    mine = translation_of(row, locale)
    fields = CONTENT_FIELDS[type(row)]
    missing = [f for f in fields if getattr(row, f) and not mine.get(f)]
    if isinstance(row, ServiceAttribute):
        names = mine.get("values") or {}
        missing += [
            f"values.{v.get('key')}" for v in row.values or [] if str(v.get("key")) not in names
        ]
    return missing


def topic_names(topics: list[str], locale: str | None = None) -> dict[str, str]:
    """``{topic: its name in locale}`` for the answers' topics (English when untranslated).

    A topic ("trash days") is a word the city chose, so it is content: its other
    languages travel with the answers that use it, under ``{"es": {"topics": {"trash
    days": "días de basura"}}}``, the way a question's choices are translated by key.
    """
    locale = locale or current_locale()
    names = {topic: topic for topic in topics}
    if locale == _default_locale() or not topics:
        return names
    for translations in db.session.scalars(
        select(Answer.translations).where(Answer.translations.is_not(None))
    ):
        given = ((translations or {}).get(locale) or {}).get("topics")
        if isinstance(given, dict):
            for topic, name in given.items():
                if topic in names and isinstance(name, str) and name.strip():
                    names[topic] = name.strip()
    return names
