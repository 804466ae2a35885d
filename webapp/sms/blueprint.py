"""The ``sms`` blueprint object, apart from its package so the views can import it."""

from flask import Blueprint

from webapp.plumbing.extensions import csrf

bp = Blueprint("sms", __name__, url_prefix="/sms")
# The provider signs its calls (checked in the view); it has no CSRF token to send.
csrf.exempt(bp)
