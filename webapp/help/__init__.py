"""Public help: the city's knowledge answers at /help and /help/<slug>."""

from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/help")

from webapp.help import views  # noqa: E402,F401
