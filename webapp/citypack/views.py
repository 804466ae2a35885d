"""The city's branding from its pack, served to every page: a few CSS custom
properties (so no inline style is needed under the content security policy) and the
logo the pack brought."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, send_from_directory

from webapp.citypack import branding, icons
from webapp.plumbing.access import public

bp = Blueprint("city", __name__)


def darker(hex_colour: str, factor: float = 0.7) -> str:
    """The colour darkened (for links on white: more contrast, never less)."""
    rgb = branding.parse_hex(hex_colour) or (11, 92, 74)
    return "#" + "".join(f"{int(c * factor):02x}" for c in rgb)


@bp.get("/brand.css")
@public
def brand_css():
    """The pack's colours as CSS custom properties that app.css reads."""
    colours = current_app.config.get("CITY_BRAND") or {}
    primary = colours.get("primary", "#0b5c4a")
    on_primary = colours.get("on_primary", "#ffffff")
    if not (branding.parse_hex(primary) and branding.parse_hex(on_primary)):
        abort(404)
    body = (
        f":root {{ --brand: {primary}; --brand-dark: {darker(primary)}; "
        f"--on-brand: {on_primary}; }}\n"
    )
    response = Response(body, mimetype="text/css")
    response.cache_control.no_cache = True
    return response


@bp.get("/brand/logo")
@public
def brand_logo():
    """The logo from the city pack (404 when the pack has none)."""
    from webapp.citypack.apply import branding_dir

    name = current_app.config.get("CITY_LOGO")
    if not name:
        abort(404)
    response = send_from_directory(branding_dir(), name, max_age=300)
    if name.endswith(".svg"):
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/brand/icons/<name>")
@public
def brand_icon(name: str):
    """An app icon drawn from the city pack (404 when the pack has none). The manifest
    names it with a version, so a long cache is safe."""
    from webapp.citypack.apply import branding_dir

    if not (current_app.config.get("CITY_PACK") or {}).get("icons") or (
        name not in icons.ICON_FILES
    ):
        abort(404)
    return send_from_directory(icons.folder(branding_dir()), name, max_age=86400)


@bp.app_template_global("brand_icon")
def brand_icon_src(static_name: str) -> str | None:
    """In templates: the URL of an app icon, the city's own when its pack drew them."""
    return icons.icon_src(static_name)
