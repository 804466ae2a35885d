"""Security from the start: CSRF, rate limits and response headers.

The Content-Security-Policy allows no inline script but a page's import map, by the
hash of its exact text (see ``webapp/plumbing/modules.py``). Map tiles are the only
outside images, from the host of the configured ``TILE_URL``.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from webapp.plumbing.extensions import csrf, limiter
from webapp.plumbing.modules import import_map_csp_source


def tile_origin(tile_url: str) -> str:
    """The origin of the tile server for the CSP, or "" when tiles are served by us."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def content_security_policy(page: bool = False) -> str:
    """The CSP header value for every response; a page's also allows its import map."""
    return _policy(current_app.config["TILE_URL"], import_map_csp_source() if page else "")


@lru_cache(maxsize=32)
def _policy(tile_url: str, import_map_source: str) -> str:
    """The CSP for a tile server and an import map, worked out once per pair."""
    tiles = tile_origin(tile_url)
    images = " ".join(filter(None, ["'self'", "data:", "blob:", tiles]))
    scripts = " ".join(filter(None, ["'self'", import_map_source]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# Sent on every response unless the view set its own.
FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "geolocation=(self), camera=(self)"),
)


def _security_headers(response):
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    if "content-security-policy" not in present:
        page = response.mimetype == "text/html"
        headers["Content-Security-Policy"] = content_security_policy(page)
    for name, value in FIXED_HEADERS:
        if name.lower() not in present:
            headers[name] = value
    max_age = current_app.config.get("HSTS_MAX_AGE", 0)
    if request.is_secure and max_age:
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def init_app(app: Flask) -> None:
    """Bind CSRF protection and the rate limiter; add security headers."""
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)
