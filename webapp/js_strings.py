"""Texts for scripts that have no server-rendered page around them, per language.

The service worker (and any script that needs a text before or without a page's
``data-*`` attributes) reads ``self.CIVIC_STRINGS[locale][key]`` from
``/strings/<locale>.js``: a tiny classic script generated at request time from the
message catalog, so the texts live in the same ``.po`` files as everything else.

- The URL carries a content hash (``?v=``); asked for by its current hash it is cached
  for a year as ``immutable``, otherwise it is ``no-cache`` with an ETag.
- Every language's file is in the service worker's precache list and imported by the
  worker itself (``importScripts`` in the generated prelude of ``/sw.js``), so offline
  the worker still speaks the reader's language; the page loads only its own language.
- Pages tell the worker which language the reader uses (``{type: "LOCALE"}`` message).

Add a text: put ``"key": _l("English text")`` in :data:`STRINGS`, run ``make messages``,
translate it. Keys are camelCase and stable; scripts fall back to English.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.i18n import render_in_locale

STRINGS = {
    "offlineTitle": _l("You are offline"),
    "offlineBody": _l(
        "This page has not been saved on this phone yet. It will open when you have a signal again."
    ),
    "tryAgain": _l("Try again"),
    "pushWorking": _l("Turning on notifications…"),
    "pushOn": _l("Notifications are on. We will tell you when this is fixed."),
    "pushDenied": _l(
        "Notifications are blocked for this site. Allow them in your browser settings to "
        "get updates."
    ),
    "pushFailed": _l("Notifications could not be turned on. Please try again."),
    "pushUnsupported": _l("This browser cannot show notifications from this app."),
    "pushInstall": _l(
        "To get notifications on iPhone or iPad, add this app to your Home Screen (Share, "
        "then Add to Home Screen) and open it from there."
    ),
    "pushSaved": _l("Saved."),
    "updateAvailable": _l("Update available"),
    "mapZoomIn": _l("Zoom in"),
    "mapZoomOut": _l("Zoom out"),
}


def strings_for(locale: str) -> dict[str, str]:
    """Every script text in ``locale``, plus the app's name."""

    def render() -> dict[str, str]:
        texts = {key: str(text) for key, text in STRINGS.items()}
        texts["appName"] = _("%(city)s 311", city=current_app.config["CITY_NAME"])
        return texts

    return render_in_locale(locale, render)


def script_for(locale: str) -> str:
    """The classic script that registers ``locale``'s texts on ``self.CIVIC_STRINGS``."""
    body = json.dumps(strings_for(locale), ensure_ascii=False, sort_keys=True)
    return (
        "self.CIVIC_STRINGS = self.CIVIC_STRINGS || {};\n"
        f"self.CIVIC_STRINGS[{json.dumps(locale)}] = {body};\n"
    )


@lru_cache(maxsize=64)
def _digest(script: str) -> str:
    return hashlib.sha256(script.encode()).hexdigest()[:12]


def script_hash(locale: str) -> str:
    """The content hash of ``locale``'s script (changes with the catalog)."""
    return _digest(script_for(locale))
