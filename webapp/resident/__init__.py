"""Resident pages: report, a request's status, my requests, the public map, photos."""

from flask import Blueprint

bp = Blueprint("resident", __name__)

from webapp.resident import closure_views, email_views, views, worker_views  # noqa: E402,F401
