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
from webapp.plumbing.security import tile_origin
from webapp.resident.blueprint import bp
from webapp.resident.strings_views import all_strings_urls

WORKER_DIR = Path(__file__).resolve().parents[2] / "service_worker"
NAME = re.compile(r"^[a-z][a-z0-9-]*$")
MANIFEST_TYPE = "application/manifest+json"
SHORT_NAME_LIMIT = 12
PRECACHE_PAGES = ("resident.home", "resident.my_requests", "resident.offline", "help.index")
PRECACHE_STATIC_GLOBS = (
    "css/*.css",
    "js/*.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/*.png",
    "icons/icon*.png",
    "icons/*.svg",
    "icons/apple-touch-icon.png",
)
# City staff's scripts and styles are not part of the resident app shell.
PRECACHE_EXCLUDED_PREFIXES = ("css/staff", "js/staff")
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


def precache_static_files() -> list[str]:
    """Static files of the app shell, relative to the static folder, sorted."""
    root = Path(current_app.static_folder)
    found = {
        path.relative_to(root).as_posix()
        for pattern in PRECACHE_STATIC_GLOBS
        for path in root.glob(pattern)
        if path.is_file()
    }
    return sorted(f for f in found if not f.startswith(PRECACHE_EXCLUDED_PREFIXES))


def shell_manifest() -> dict:
    """What the worker needs before it can install: version, precache URLs, tile URL and
    the outbox's send time limit."""
    static_urls = [url_for("static", filename=name) for name in precache_static_files()]
    pages = [url_for(endpoint) for endpoint in PRECACHE_PAGES]
    # The offline page in every language, and every language's script texts.
    pages += [url_for("resident.offline", locale=code) for code in supported_locales()]
    strings = all_strings_urls()
    manifest_url = url_for("resident.web_app_manifest_file")
    tile_url = current_app.config["TILE_URL"]
    send_timeout_ms = outbox_send_timeout_ms()
    digest = hashlib.sha256()
    for part in [*static_urls, *pages, *strings, manifest_url, tile_url, str(send_timeout_ms)]:
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
        "strings": strings,
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
