"""Thin views for residents; the rules live in webapp.domain."""

import re
from itertools import groupby

from flask import abort, current_app, render_template, send_file
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.access import public
from webapp.content_i18n import localized, localized_group
from webapp.domain import places
from webapp.domain import requests as requests_domain
from webapp.domain.storage import photo_store
from webapp.extensions import db
from webapp.models import Role, Service, ServiceRequest
from webapp.resident import bp
from webapp.sessions import current_account, current_device

PHOTO_CACHE_SECONDS = 365 * 24 * 3600
PHOTO_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}-(?:display|thumb)\.jpg")


def _service_groups() -> list[tuple[str, list[Service]]]:
    """Active public services with their questions, grouped for the category step."""
    services = db.session.scalars(
        select(Service)
        .where(Service.active.is_(True), Service.public.is_(True))
        .options(selectinload(Service.attributes))
        .order_by(Service.group, Service.name)
    ).all()
    grouped = [(group, list(items)) for group, items in groupby(services, key=lambda s: s.group)]
    # Groups and services are shown in the reader's language, sorted as they read them.
    shown = [(localized_group(items), items) for _group, items in grouped]
    return [
        (group, sorted(items, key=lambda s: localized(s, "name").casefold()))
        for group, items in sorted(shown, key=lambda pair: pair[0].casefold())
    ]


def _map_settings() -> dict:
    """Tile server and starting view for the report map (the city's middle)."""
    boundary = places.city_boundary()
    if boundary is not None:
        min_lat, min_long, max_lat, max_long = places.geojson_bbox(boundary.geojson)
        centre, zoom = ((min_lat + max_lat) / 2, (min_long + max_long) / 2), 13
    else:
        centre, zoom = (0.0, 0.0), 2
    return {
        "tile_url": current_app.config["TILE_URL"],
        "tile_attribution": current_app.config["TILE_ATTRIBUTION"],
        "lat": round(centre[0], 6),
        "long": round(centre[1], 6),
        "zoom": zoom,
    }


@bp.get("/")
@public
def home():
    """The report flow: photo, place, category, description, contact, review, send."""
    account = current_account()
    return render_template(
        "resident/home.html",
        service_groups=_service_groups(),
        map_settings=_map_settings(),
        is_liaison=account is not None and account.role == Role.LIAISON,
    )


@bp.get("/requests/<public_id>")
@public
def request_page(public_id: str):
    """A request's status in plain words, its timeline and photos."""
    service_request = requests_domain.get_by_public_id(public_id)
    if not service_request.service.public:
        abort(404)
    account, device = current_account(), current_device()
    return render_template(
        "resident/request.html",
        req=service_request,
        following=requests_domain.is_following(service_request, user=account, device=device),
        is_requester=requests_domain.is_requester(service_request, account, device),
    )


@bp.get("/my")
@public
def my_requests():
    """The caller's requests: by account when signed in, else by this device."""
    account, device = current_account(), current_device()
    mine = requests_domain.owned_by(account, device)
    rows = []
    if mine is not None:
        rows = db.session.scalars(
            select(ServiceRequest)
            .where(mine)
            .order_by(ServiceRequest.received_at.desc())
            .limit(200)
        ).all()
    return render_template(
        "resident/my.html",
        open_requests=[r for r in rows if not r.is_closed],
        closed_requests=[r for r in rows if r.is_closed],
        signed_in=account is not None,
    )


@bp.get("/map")
@public
def map_page():
    """The public map of requests."""
    return render_template("resident/map.html")


@bp.get("/photos/<path:key>")
@public
def photo(key: str):
    """A stored photo derivative, cached forever (its name is its content hash).

    Only keys shaped like the pipeline's own (``ab/cd/<sha256>-display.jpg``) are
    served, always as ``image/jpeg`` with ``nosniff``, never as a download or a page.
    """
    if not PHOTO_KEY.fullmatch(key):
        abort(404)
    path = photo_store().path(key)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype="image/jpeg", max_age=PHOTO_CACHE_SECONDS, conditional=True, etag=True
    )
    response.headers["Cache-Control"] = f"public, max-age={PHOTO_CACHE_SECONDS}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
