"""The service worker and its imported scripts, served from the site root.

A service worker's scope is limited by its URL, so it is served at ``/sw.js`` (scope
``/``). ``/sw-<name>.js`` serves ``service_worker/<name>.js`` for ``importScripts``.
``no-cache`` makes the browser check for a new version on every navigation.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import abort, send_file

from webapp.access import public
from webapp.resident import bp

WORKER_DIR = Path(__file__).resolve().parents[2] / "service_worker"
NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def _serve_worker_file(name: str):
    path = WORKER_DIR / f"{name}.js"
    if not NAME.match(name) or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="text/javascript", max_age=0, conditional=True)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/sw.js")
@public
def service_worker():
    """The service worker itself."""
    return _serve_worker_file("sw")


@bp.get("/sw-<name>.js")
@public
def service_worker_part(name: str):
    """A script the service worker imports (``importScripts("/sw-push.js")``)."""
    return _serve_worker_file(name)
