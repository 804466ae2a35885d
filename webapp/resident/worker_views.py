"""The installable shell: service worker, web app manifest and offline page.

A service worker's scope is limited by its URL, so it is served at ``/sw.js`` (scope
``/``). ``/sw-<name>.js`` serves ``service_worker/<name>.js`` for ``importScripts``.
Both are ``no-cache`` so the browser checks for a new version on every navigation.

``/sw.js`` starts with a generated line, ``self.SHELL_MANIFEST = {...}``: the shell
version, the precache list (static URLs carrying content hashes) and the tile URL
template. The version is a hash of everything the worker precaches or runs, so any
change to a precached file, a worker script, the manifest or the tile server yields a
byte-different worker, which the browser installs and then offers as an update.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.citypack.icons import icon_src
from webapp.i18n import normalise, render_in_locale, supported_locales
from webapp.plumbing.access import public
from webapp.plumbing.assets import file_hash
from webapp.plumbing.modules import module_closure
from webapp.plumbing.security import tile_origin
from webapp.resident.blueprint import bp
from webapp.resident.strings_views import all_strings_urls

WORKER_DIR = Path(__file__).resolve().parents[2] / "service_worker"
NAME = re.compile(r"^[a-z][a-z0-9-]*$")
MANIFEST_TYPE = "application/manifest+json"
SHORT_NAME_LIMIT = 12
# What the worker downloads at install: the pages that open offline from the first visit
# on (the report flow, the outbox in "My requests", the offline page in every language),
# their styles, and the scripts those pages run with every module they import. A page
# the phone already shows costs nothing more: the worker asks for the same hashed URLs,
# which the browser's cache answers.
PRECACHE_PAGES = ("resident.home", "resident.my_requests")
PRECACHE_STATIC_FILES = ("css/app.css", "css/shell.css", "icons/icon.svg")
PRECACHE_ENTRY_SCRIPTS = (
    "js/register-sw.js",
    "js/outbox-core.js",
    "js/report.js",
    "js/report-answers.js",
    "js/my.js",
)
# Kept after the first visit instead: the map library (57 KB compressed, nearly half the
# first load) and the help pages. A map that is shown keeps Leaflet at once (the worker
# keeps every hashed file it serves); the rest is fetched the first time the worker
# serves a page. Until then the report flow works offline without the map (GPS, an
# address or a landmark), as it does whenever Leaflet or the tiles cannot load.
LATER_PAGES = ("help.index",)
LATER_STATIC_GLOBS = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/*.png",
)
LATER_ENTRY_SCRIPTS = ("js/help-search.js",)
ICONS = (
    ("icons/icon.svg", "any", "image/svg+xml", "any"),
    ("icons/icon-192.png", "192x192", "image/png", "any"),
    ("icons/icon-512.png", "512x512", "image/png", "any"),
    ("icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
)
SCREENSHOTS = (
    ("icons/screenshot-narrow.png", "1080x1920", "narrow"),
    ("icons/screenshot-wide.png", "1920x1080", "wide"),
)


def _no_cache(response: Response) -> Response:
    """Let browsers keep a copy but ask the server (ETag) before every use."""
    response.headers["Cache-Control"] = "no-cache"
    return response


def app_name() -> str:
    """The app's full name, e.g. "Chattanooga 311"."""
    return _("%(city)s 311", city=current_app.config["CITY_NAME"])


def app_short_name() -> str:
    """A name that fits under a home-screen icon (about 12 characters)."""
    name = app_name()
    return name if len(name) <= SHORT_NAME_LIMIT else _("311")


def web_app_manifest() -> dict:
    """The Web App Manifest: names, scope, colours, icons, screenshots, shortcuts (the
    city's own icons when its pack drew them)."""
    return {
        "id": "/",
        "name": app_name(),
        "short_name": app_short_name(),
        "description": _(
            "Report potholes, graffiti, broken streetlights and other problems to the city, "
            "even with no signal, and follow them until they are fixed."
        ),
        "lang": str(get_locale()),
        "dir": "ltr",
        "start_url": url_for("resident.home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": current_app.config["CITY_BRAND"]["primary"],
        "background_color": "#f3f5f4",
        "categories": ["government", "utilities"],
        "icons": [
            {"src": src, "sizes": s, "type": t, "purpose": p}
            for f, s, t, p in ICONS
            if (src := icon_src(f))
        ],
        "screenshots": [
            {
                "src": url_for("static", filename=f),
                "sizes": s,
                "type": "image/png",
                "form_factor": form,
                "label": _("Reporting a problem on the map"),
            }
            for f, s, form in SCREENSHOTS
        ],
        "shortcuts": [
            {
                "name": _("Report a problem"),
                "url": url_for("resident.home"),
                "icons": [
                    {"src": icon_src("icons/icon-192.png"), "sizes": "192x192"}
                ],
            },
            {
                "name": _("My requests"),
                "url": url_for("resident.my_requests"),
                "icons": [
                    {"src": icon_src("icons/icon-192.png"), "sizes": "192x192"}
                ],
            },
        ],
    }


def _static_files(patterns) -> list[str]:
    """Static files matching the glob patterns, relative to the static folder, sorted."""
    root = Path(current_app.static_folder)
    found = {
        path.relative_to(root).as_posix()
        for pattern in patterns
        for path in root.glob(pattern)
        if path.is_file()
    }
    return sorted(found)


def precache_static_files() -> list[str]:
    """Static files the worker downloads at install, relative to the static folder."""
    return sorted(
        {*_static_files(PRECACHE_STATIC_FILES), *module_closure(PRECACHE_ENTRY_SCRIPTS)}
    )


def later_static_files() -> list[str]:
    """Static files kept after the first visit (not already in the install's list)."""
    later = {*_static_files(LATER_STATIC_GLOBS), *module_closure(LATER_ENTRY_SCRIPTS)}
    return sorted(later - set(precache_static_files()))


def shell_manifest() -> dict:
    """What the worker needs before it can install: version, precache URLs, the files it
    keeps after the first visit, tile URL and the outbox's send time limit."""
    static_urls = [url_for("static", filename=name) for name in precache_static_files()]
    later = [url_for(endpoint) for endpoint in LATER_PAGES]
    later += [url_for("static", filename=name) for name in later_static_files()]
    pages = [url_for(endpoint) for endpoint in PRECACHE_PAGES]
    # The offline page in every language, and every language's script texts.
    pages += [url_for("resident.offline", locale=code) for code in supported_locales()]
    strings = all_strings_urls()
    outbox_core = url_for("static", filename="js/outbox-core.js")
    manifest_url = url_for("resident.web_app_manifest_file")
    tile_url = current_app.config["TILE_URL"]
    send_timeout_ms = outbox_send_timeout_ms()
    digest = hashlib.sha256()
    for part in [*static_urls, *later, *pages, *strings, manifest_url, tile_url, str(send_timeout_ms)]:
        digest.update(part.encode() + b"\n")
    # Every language's manifest: the worker is the same whichever language asks for it.
    for code in supported_locales():
        manifest = render_in_locale(code, web_app_manifest)
        digest.update(json.dumps(manifest, sort_keys=True).encode())
    for script in sorted(WORKER_DIR.glob("*.js")):
        digest.update(script.name.encode() + file_hash(script).encode())
    return {
        "version": digest.hexdigest()[:16],
        "precache": [*pages, manifest_url, *strings, *static_urls],
        "later": later,
        "strings": strings,
        "outboxCore": outbox_core,
        "tileUrl": tile_url,
        "outboxSendTimeoutMs": send_timeout_ms,
    }


def outbox_send_timeout_ms() -> int:
    """How long the outbox waits for one answer before retrying (OUTBOX_SEND_TIMEOUT)."""
    return max(1, round(float(current_app.config["OUTBOX_SEND_TIMEOUT"]) * 1000))


def worker_content_security_policy() -> str:
    """The worker's own CSP: its fetches of map tiles are ``connect-src``, not ``img-src``."""
    tiles = tile_origin(current_app.config["TILE_URL"])
    connect = " ".join(filter(None, ["'self'", tiles]))
    return f"default-src 'self'; script-src 'self'; connect-src {connect}; object-src 'none'"


def _serve_worker_file(name: str, prelude: str = "") -> Response:
    """``service_worker/<name>.js`` (after ``prelude``) as a no-cache script with an ETag."""
    path = WORKER_DIR / f"{name}.js"
    if not NAME.match(name) or not path.is_file():
        abort(404)
    response = Response(prelude + path.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Content-Security-Policy"] = worker_content_security_policy()
    response.add_etag()
    return _no_cache(response.make_conditional(request))


@bp.get("/sw.js")
@public
def service_worker():
    """The service worker, preceded by its generated shell manifest."""
    prelude = (
        "/* Generated by webapp/resident/worker_views.py: shell version and precache list. */\n"
        f"self.SHELL_MANIFEST = {json.dumps(shell_manifest(), separators=(',', ':'))};\n"
        "importScripts(...self.SHELL_MANIFEST.strings);\n"
    )
    return _serve_worker_file("sw", prelude)


@bp.get("/sw-<name>.js")
@public
def service_worker_part(name: str):
    """A script the service worker imports (``importScripts("/sw-push.js")``)."""
    return _serve_worker_file(name)


@bp.get("/manifest.webmanifest")
@public
def web_app_manifest_file():
    """The Web App Manifest, in the city's name and the visitor's language."""
    body = json.dumps(web_app_manifest(), ensure_ascii=False, indent=1)
    return _no_cache(Response(body, mimetype=MANIFEST_TYPE))


@bp.get("/offline")
@public
def offline():
    """Shown by the service worker for a page that was never saved on this device.

    The worker keeps one copy per language (``?locale=es``) and shows the reader's.
    """
    asked = normalise(request.args.get("locale"))
    if asked:
        return render_in_locale(asked, lambda: render_template("resident/offline.html"))
    return render_template("resident/offline.html")
