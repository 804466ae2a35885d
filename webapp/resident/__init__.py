"""Resident pages: report, a request's status, my requests, the public map, photos."""

from flask import Blueprint

bp = Blueprint("resident", __name__)

from webapp.resident import (  # noqa: E402,F401
    closure_views,
    email_views,
    language_views,
    privacy_views,
    strings_views,
    views,
    worker_views,
)
