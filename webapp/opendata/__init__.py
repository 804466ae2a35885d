"""Open data: the public transparency page (/stats) and the public export."""

from flask import Blueprint

bp = Blueprint("opendata", __name__)

from webapp.opendata import contacts_views, views  # noqa: E402,F401
