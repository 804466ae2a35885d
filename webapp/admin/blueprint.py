"""The ``admin`` blueprint object, apart from its package so that the views can import it
without importing the package that imports them."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
