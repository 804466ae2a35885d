"""Unbound Flask extension objects; ``create_app`` binds them with ``init_app``."""

from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class SignedInSessionProtection(LoginManager):
    """Flask-Login with "strong" session protection applied to signed-in sessions only.

    Flask-Login checks the browser's fingerprint against any non-empty session. A
    signed-out visitor's session holds just a form token, never a fingerprint, so the
    stock check failed on every page view, marked the session changed and sent a fresh
    ``Set-Cookie``. Those cookies raced real sign-ins: a page the service worker fetched
    in the background before the sign-in answered afterwards and put the old,
    signed-out cookie back. With nobody signed in there is nothing to protect.
    """

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = SignedInSessionProtection()
csrf = CSRFProtect()
babel = Babel()
mail = Mail()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
