"""How bytes reach the phone: content-hashed static URLs, long-lived caching, compression.

- Every ``url_for("static", filename=...)`` gets ``?v=<content hash>`` added (a URL
  default), so templates need no helper and a changed file always gets a new URL.
- A static response whose ``v`` matches the file's current hash is cached for a year
  as ``immutable``; anything else (no ``v``, an old ``v``) stays ``no-cache`` with an
  ETag, so ES-module imports and Leaflet's CSS images revalidate instead of going stale.
- A hashed file or a language's script texts (marked ``public``) is the same for every
  visitor: it neither refreshes the session cookie nor says ``Vary: Cookie``. Else a
  cookie set between two fetches of the same file (the first page offers a device token,
  ``/my`` starts a session) makes the browser's cache miss and fetch the file again.
- Text responses (HTML, CSS, JS, JSON, SVG, the manifest) are compressed with Brotli,
  Zstandard or gzip as the browser accepts (Flask-Compress). Photos and PNGs are already
  compressed and pass through untouched; partial (206) responses are never compressed.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from werkzeug.security import safe_join

VERSION_ARG = "v"
HASH_LENGTH = 12
STATIC_MAX_AGE = 365 * 24 * 3600
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "application/manifest+json",
    "application/problem+json",
    "application/xml",
    "text/xml",
    "image/svg+xml",
]

_hash_memo: dict[str, tuple[int, int, str]] = {}
_hash_lock = threading.Lock()


def file_hash(path: Path) -> str:
    """A short SHA-256 of the file's bytes, recomputed only when its size or mtime change."""
    stat = path.stat()
    key = str(path)
    memo = _hash_memo.get(key)
    if memo and memo[0] == stat.st_mtime_ns and memo[1] == stat.st_size:
        return memo[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
    with _hash_lock:
        _hash_memo[key] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def static_path(filename: str) -> Path | None:
    """The file under the app's static folder, or None when absent or outside it."""
    joined = safe_join(current_app.static_folder, filename)
    if joined is None:
        return None
    path = Path(joined)
    return path if path.is_file() else None


def static_hash(filename: str) -> str | None:
    """The content hash of a static file, or None when it does not exist."""
    path = static_path(filename)
    return file_hash(path) if path else None


def add_static_hash(endpoint: str, values: dict) -> None:
    """URL default: ``url_for("static", filename=f)`` becomes ``/static/f?v=<hash>``."""
    if endpoint != "static" or VERSION_ARG in values or "filename" not in values:
        return
    digest = static_hash(values["filename"])
    if digest:
        values[VERSION_ARG] = digest


def cache_hashed_static(response):
    """A year of ``immutable`` caching for static files asked for by their current hash."""
    if request.endpoint != "static" or response.status_code != 200:
        return response
    wanted = request.args.get(VERSION_ARG)
    filename = (request.view_args or {}).get("filename", "")
    if wanted and wanted == static_hash(filename):
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    return response


def buffer_static_text(response):
    """Read small static text files into memory so they are compressed with a length.

    Flask streams static files; streamed bodies would be compressed chunk by chunk with
    no Content-Length and no gzip. Our CSS and JS are small, so buffering is cheap.
    Range requests keep streaming and are left uncompressed.
    """
    if (
        request.endpoint == "static"
        and response.status_code == 200
        and response.mimetype in COMPRESSED_TYPES
        and response.direct_passthrough
    ):
        stream = response.response
        response.direct_passthrough = False
        try:
            response.set_data(response.get_data())
        finally:
            if hasattr(stream, "close"):
                stream.close()
    return response


class Compression(Compress):
    """Flask-Compress that leaves partial content (206) alone."""

    def after_request(self, response):
        """Compress the response unless it is a byte range of a file."""
        if response is not None and response.status_code == 206:
            return response
        return super().after_request(response)


# Files whose bytes never depend on who asks: static files and a language's script texts.
COOKIE_FREE_ENDPOINTS = frozenset({"static", "resident.script_strings"})


class SessionSparingPublicFiles(SecureCookieSessionInterface):
    """Signed-cookie sessions that leave public files alone.

    Flask adds ``Vary: Cookie`` to every response whose request looked at the session
    (Flask-Login looks on every request). A public file does not depend on the cookie,
    and with that ``Vary`` the browser would fetch it again as soon as a cookie changes.
    Other public answers (an anonymous map read) keep the ``Vary``: signing in changes
    the cookie, and with it what the reader may see.
    """

    def open_session(self, app, request_):
        """Open as Flask does; with no session cookie, an empty session at once.

        Flask builds the cookie's signer on every request, also when there is nothing
        to check: most callers (an anonymous map read, a phone's API call) send none.
        """
        if app.secret_key and self.get_cookie_name(app) not in request_.cookies:
            return self.session_class()
        return super().open_session(app, request_)

    def save_session(self, app, session, response) -> None:
        """Save as Flask does, except on an unchanged session behind a public file."""
        if (
            request.endpoint in COOKIE_FREE_ENDPOINTS
            and response.cache_control.public
            and not session.modified
        ):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Add hashed static URLs, long-lived caching of hashed files and compression."""
    app.session_interface = SessionSparingPublicFiles()
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "zstd", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 512)
    app.url_defaults(add_static_hash)
    app.extensions["civic311_compress"] = Compression(app)
    app.after_request(cache_hashed_static)
    app.after_request(buffer_static_text)
