"""The ``open311`` blueprint object, apart from its package so that the views can import it
without importing the package that imports them."""

from flask import Blueprint

from webapp.plumbing.extensions import csrf

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)
