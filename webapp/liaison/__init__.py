"""Neighborhood liaison pages."""

from flask import Blueprint

bp = Blueprint("liaison", __name__, url_prefix="/liaison")

from webapp.liaison import views  # noqa: E402,F401
