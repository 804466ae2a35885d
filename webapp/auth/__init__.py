"""Sign up, sign in and sign out (Flask-Login + Flask-WTF forms)."""

from webapp.auth import views  # noqa: E402,F401
from webapp.auth.blueprint import bp  # noqa: F401 (create_app registers it)
