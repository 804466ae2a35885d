"""Public, signed, expiring links to a request's photos, for a city CRM to fetch.

A CRM that takes a request over GeoReport v2 gets its photos as ``media_url``: a link
to this server that names one photo, is signed with the app's secret (so nobody can
guess or alter it) and stops working after ``FORWARD_PHOTO_LINK_DAYS``. The photo is
served only through such a link's check; an altered, foreign or expired link is a 404.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.models import Photo
from webapp.plumbing.extensions import db

PATH = "/open311/v2/media/"


class LinkRefused(Exception):
    """A photo link that is altered, foreign or too old."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="civic311-crm-photo")


def _base_url() -> str:
    provider = current_app.extensions.get("civic311_public_url")
    return provider() if provider else "http://localhost:5000"


def link(photo: Photo) -> str:
    """The absolute, signed link to ``photo`` that a CRM may fetch until it expires."""
    return f"{_base_url()}{PATH}{_serializer().dumps({'p': photo.id})}.jpg"


def read(token: str) -> Photo:
    """The photo a link names; raises LinkRefused for an altered or expired link."""
    days = int(current_app.config.get("FORWARD_PHOTO_LINK_DAYS", 30))
    try:
        data = _serializer().loads(token, max_age=days * 86400)
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("tampered") from None
    photo = db.session.get(Photo, data.get("p")) if isinstance(data, dict) else None
    if photo is None:
        raise LinkRefused("gone")
    return photo
