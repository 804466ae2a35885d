"""Languages: which one a reader gets, how they switch, and rendering in someone else's.

The reader's language is, in order: the signed-in account's choice, the device's choice
(made with the switcher while anonymous), the ``civic_lang`` cookie, then the browser's
``Accept-Language`` (``es-MX`` and ``es-US`` count as ``es``), then ``DEFAULT_LOCALE``.
Adding a language is adding its catalog under ``webapp/translations/<code>/``: the list
of supported languages is read from the catalogs present (see ``docs/translating.md``).

Messages read by someone who is not the current caller (push, e-mail) are rendered with
:func:`render_in_locale`, in the recipient's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale, get_locale
from flask_login import current_user

from webapp.plumbing.extensions import babel

LANG_COOKIE = "civic_lang"
LANG_COOKIE_MAX_AGE = 400 * 24 * 3600
API_PREFIXES = ("/api/", "/open311/")
T = TypeVar("T")


def supported() -> tuple[str, ...]:
    """The languages this deployment speaks, the default first."""
    return tuple(current_app.config["SUPPORTED_LOCALES"])


supported_locales = supported


def normalise(value: str | None) -> str | None:
    """``"es-MX"``, ``"es_us"`` or ``"ES"`` → ``"es"`` when supported, else None."""
    if not value or not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in supported() else None


def browser_locale() -> str | None:
    """The best supported match for ``Accept-Language`` (regional variants included)."""
    for value, _quality in request.accept_languages:
        code = normalise(value)
        if code:
            return code
    return None


def _device_locale() -> str | None:
    from webapp.plumbing.sessions import current_device

    device = current_device()
    return normalise(device.locale) if device is not None else None


def select_locale() -> str:
    """Account, then device, then cookie, then browser, then the city's default."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if request.path.startswith(API_PREFIXES):
        # Machines may ask explicitly (an Open311 extension); people use the switcher.
        asked = normalise(request.args.get("locale"))
        if asked:
            return asked
    if current_user and current_user.is_authenticated:
        chosen = normalise(current_user.locale)
        if chosen:
            return chosen
    return (
        _device_locale()
        or normalise(request.cookies.get(LANG_COOKIE))
        or browser_locale()
        or default
    )


def chosen_by_headers() -> bool:
    """True when the reader's language is what ``Accept-Language`` alone gives.

    A shared cache keys a response on ``Vary: Accept-Language``; a language chosen by a
    cookie or a device is invisible to it, so such a response must stay private.
    """
    asked = (
        normalise(request.args.get("locale")) if request.path.startswith(API_PREFIXES) else None
    )
    by_headers = asked or browser_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]
    return str(get_locale()) == by_headers


def locale_name(code: str) -> str:
    """A language's own name, capitalised: ``"es"`` → ``"Español"``."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def render_in_locale(locale: str | None, fn: Callable[[], T]) -> T:
    """Call ``fn`` with gettext, dates and numbers in ``locale`` (the default when unknown).

    For anything read by someone other than the current caller: a push or an e-mail to
    a resident, written while a staff member's request (or a worker) is running.
    """
    chosen = normalise(locale) or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(chosen):
        return fn()


def recipient_locale(user=None, device=None) -> str | None:
    """The language a person reads in: their account's choice, else their device's."""
    for holder in (user, device):
        code = normalise(getattr(holder, "locale", None)) if holder is not None else None
        if code:
            return code
    return None


def reporter_locale(service_request) -> str | None:
    """The language to write to whoever made a report (e-mail to its contact address too).

    Their account's choice, else their device's, else the language they reported in.
    """
    return recipient_locale(service_request.requester, service_request.device) or normalise(
        service_request.locale
    )


def _remember_report_language(_mapper, _connection, target) -> None:
    """A new report keeps the language its reporter used (staff see it on the workbench)."""
    if target.locale is None and has_request_context():
        target.locale = str(get_locale())


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our translations folder and expose the helpers to templates."""
    from sqlalchemy import event

    from webapp.models import ServiceRequest

    if not event.contains(ServiceRequest, "before_insert", _remember_report_language):
        event.listen(ServiceRequest, "before_insert", _remember_report_language)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    from flask_babel import (
        format_date,
        format_datetime,
        format_decimal,
        format_timedelta,
        ngettext,
    )

    from webapp.content_i18n import localized, localized_values
    from webapp.domain.glossary import resolution_word, status_meaning, status_word
    from webapp.wording import (
        answer_lines,
        channel_label,
        datatype_label,
        event_label,
        photo_kind_label,
        sort_choice,
        status_choice,
        status_label,
    )

    app.jinja_env.globals.update(
        get_locale=get_locale,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_timedelta=format_timedelta,
        ngettext=ngettext,
        status_label=status_label,
        event_label=event_label,
        resolution_label=resolution_word,
        status_word=status_word,
        status_choice=status_choice,
        sort_choice=sort_choice,
        channel_label=channel_label,
        photo_kind_label=photo_kind_label,
        datatype_label=datatype_label,
        answer_lines=answer_lines,
        status_meaning=status_meaning,
        locale_name=locale_name,
        localized=localized,
        localized_values=localized_values,
        supported_locales=supported,
    )
