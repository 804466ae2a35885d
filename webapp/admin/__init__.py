"""Administration: services, departments, neighborhoods, users, API keys."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import city_views, frontdoor_views, translation_views, views  # noqa: E402,F401
