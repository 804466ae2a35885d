"""Administration: services, departments, neighborhoods, users, API keys."""

from webapp.admin import city_views, frontdoor_views, translation_views, views  # noqa: E402,F401
from webapp.admin.blueprint import bp  # noqa: F401 (create_app registers it)
