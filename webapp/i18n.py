"""Flask-Babel wiring: the locale comes from the user's setting, else the browser."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_login import current_user

from webapp.extensions import babel


def select_locale() -> str:
    """The signed-in user's locale when supported, else the browser's best match."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    return (
        request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our translations folder."""
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    from flask_babel import format_date, format_datetime, get_locale

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
    )
