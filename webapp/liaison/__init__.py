"""Neighborhood liaison pages."""

from webapp.liaison import views  # noqa: E402,F401
from webapp.liaison.blueprint import bp  # noqa: F401 (create_app registers it)
