"""Open data: the public transparency page (/stats) and the public exports."""

from webapp.opendata import contacts_views, export_views, views  # noqa: E402,F401
from webapp.opendata.blueprint import bp  # noqa: F401 (create_app registers it)
