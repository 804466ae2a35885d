"""Open311 GeoReport v2 at /open311/v2, in JSON and XML."""

from flask import Blueprint

from webapp.extensions import csrf

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

from webapp.open311 import media_views, update_views, views  # noqa: E402,F401
