"""The ``liaison`` blueprint object, apart from its package so that the views can import it
without importing the package that imports them."""

from flask import Blueprint

bp = Blueprint("liaison", __name__, url_prefix="/liaison")
