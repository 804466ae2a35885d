"""Open311 GeoReport v2 at /open311/v2, in JSON and XML."""

from webapp.open311 import media_views, update_views, views  # noqa: E402,F401
from webapp.open311.blueprint import bp  # noqa: F401 (create_app registers it)
