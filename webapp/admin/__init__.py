"""Administration: services, departments, neighborhoods, users, API keys."""

from webapp.admin import (  # noqa: E402,F401
    access_views,
    catalogue_views,
    city_views,
    frontdoor_views,
    organisation_views,
    translation_views,
)
from webapp.admin.blueprint import bp  # noqa: F401 (create_app registers it)
