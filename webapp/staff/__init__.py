"""Staff console: the queue and the request workbench."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from webapp.staff import desk_views, views, work_views  # noqa: E402,F401
