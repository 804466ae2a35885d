"""The ``api`` blueprint object, apart from its package so that the views can import it
without importing the package that imports them."""

from flask import Blueprint

from webapp.plumbing.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
