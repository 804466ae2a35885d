"""Resident pages: report, a request's status, my requests, the public map, photos."""

from webapp.resident import (  # noqa: E402,F401
    chat_views,
    closure_views,
    email_views,
    language_views,
    privacy_views,
    strings_views,
    views,
    worker_views,
)
from webapp.resident.blueprint import bp  # noqa: F401 (create_app registers it)
