"""Sign up, sign in and sign out (Flask-Login + Flask-WTF forms)."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from webapp.auth import views  # noqa: E402,F401
