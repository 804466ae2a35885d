"""The photos of forwarded requests, behind signed, expiring links (see
``domain/photo_links.py``): what a city CRM fetches from a request's ``media_url``."""

from __future__ import annotations

import io

from flask import abort, send_file

from webapp.domain.lifecycle.storage import photo_store
from webapp.domain.open311 import photo_links
from webapp.open311.blueprint import bp
from webapp.plumbing.access import public


@bp.get("/media/<token>.jpg")
@public
def shared_photo(token: str):
    """One photo's display size as ``image/jpeg``, or 404 when the link does not hold."""
    try:
        photo = photo_links.read(token)
    except photo_links.LinkRefused:
        abort(404)
    try:
        data = photo_store().open(photo.display_key)
    except FileNotFoundError:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
