"""``/strings/<locale>.js``: script texts per language (see ``webapp/js_strings.py``)."""

from __future__ import annotations

from flask import Response, abort, current_app, request, url_for

from webapp.i18n import normalise
from webapp.js_strings import script_for, script_hash
from webapp.plumbing.access import public
from webapp.plumbing.assets import STATIC_MAX_AGE, VERSION_ARG
from webapp.resident.blueprint import bp


def strings_url(locale: str) -> str:
    """The hashed URL of a language's script texts."""
    return url_for("resident.script_strings", locale=locale, **{VERSION_ARG: script_hash(locale)})


@bp.app_template_global("strings_url")
def page_strings_url(locale) -> str:
    """``strings_url(get_locale())`` in templates: the page's own language's texts."""
    return strings_url(str(locale))


def all_strings_urls() -> list[str]:
    """One URL per supported language, for the service worker's precache and imports."""
    return [strings_url(code) for code in current_app.config["SUPPORTED_LOCALES"]]


@bp.get("/strings/<locale>.js")
@public
def script_strings(locale: str):
    """A language's script texts; immutable when asked for by its current hash."""
    if normalise(locale) != locale:
        abort(404)
    script = script_for(locale)
    response = Response(script, mimetype="text/javascript")
    response.add_etag()
    if request.args.get(VERSION_ARG) == script_hash(locale):
        # The worker's first install checks its imported scripts with the server even
        # when fresh: the ETag lets it be a 304 rather than the file again.
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)
