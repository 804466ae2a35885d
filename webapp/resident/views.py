"""Thin views for residents; the rules live in webapp.domain."""

import io
import re
from datetime import datetime, timedelta
from itertools import groupby

from flask import abort, current_app, render_template, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.content_i18n import localized, localized_group
from webapp.domain.figures import mapread
from webapp.domain.geo import places
from webapp.domain.lifecycle import following, supporters
from webapp.domain.lifecycle import my_requests as my_requests_domain
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle.storage import photo_store
from webapp.models import Role, Service, utcnow
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident.blueprint import bp
from webapp.wording import status_label_for

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


def _map_settings(account=None) -> dict:
    """Tile server and starting view for the report map: a liaison's own neighborhood,
    else the city's middle. The starting view is never taken as the report's place."""
    boundary = places.city_boundary()
    neighborhood = account.neighborhood if account is not None else None
    if neighborhood is not None and account.role == Role.LIAISON:
        min_lat, min_long, max_lat, max_long = places.geojson_bbox(neighborhood.geojson)
        centre, zoom = ((min_lat + max_lat) / 2, (min_long + max_long) / 2), 15
    elif boundary is not None:
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
        map_settings=_map_settings(account),
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
        following=following.is_following(service_request, user=account, device=device),
        is_requester=requests_domain.is_requester(service_request, account, device),
        follow_email=supporters.outcome_address(service_request, user=account, device=device),
    )


@bp.get("/my")
@public
def my_requests():
    """The caller's requests, a page at a time: by account when signed in, else by device
    (and the addresses this device proved with a sign-in link)."""
    listing = my_requests_domain.page_of_requests(
        current_account(), current_device(), _page_number(request.args.get("page"))
    )
    return render_template(
        "resident/my.html",
        listing=listing,
        open_requests=listing.open_rows,
        closed_requests=listing.closed_rows,
        signed_in=current_account() is not None,
    )


def _page_number(raw: str | None) -> int:
    """A page number from the query string: anything that is not one is page 1, and a
    number past the end is clamped to the last page, never an error."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return 1
    return int(raw) if len(raw) <= 9 else 10**9


MAP_PERIODS = {"7": 7, "30": 30, "365": 365}
MAP_LIST_SIZE = 50


def _map_filters(args) -> tuple[mapread.MapFilters, dict]:
    """The public map's filters from the page's own form (unknown values are ignored)."""
    status = args.get("status") if args.get("status") in ("open", "closed") else ""
    service_code = args.get("service_code") or ""
    period = args.get("period") if args.get("period") in MAP_PERIODS else ""
    since = utcnow() - timedelta(days=MAP_PERIODS[period]) if period else None
    chosen = {"status": status, "service_code": service_code, "period": period}
    return (
        mapread.MapFilters(status=status or None, service_code=service_code or None, since=since),
        chosen,
    )


@bp.get("/map")
@public
def map_page():
    """The public map of requests: clusters and markers by script, a list without it."""
    filters, chosen = _map_filters(request.args)
    found = mapread.page(filters, page_size=MAP_LIST_SIZE)
    services = db.session.scalars(
        select(Service).where(Service.public.is_(True)).order_by(Service.name)
    ).all()
    names = {service.service_code: localized(service, "name") for service in services}
    rows = []
    for found_row in found.rows:
        row = dict(zip(mapread.PAGE_KEYS, found_row, strict=True))
        rows.append({
            "public_id": row["public_id"],
            "service_name": names.get(row["service_code"], row["service_name"]),
            "status_label": status_label_for(
                row["detailed_status"], row["resolution"], row["reopened"]
            ),
            "received_at": datetime.fromisoformat(row["requested_datetime"]),
            "where": row["address"] or row["landmark"] or row["neighborhood"] or "",
        })
    return render_template(
        "resident/map.html",
        rows=rows,
        total=found.total,
        total_is_exact=found.total_is_exact,
        services=services,
        chosen=chosen,
        periods=MAP_PERIODS,
        map_settings=_map_settings(),
        city_bounds=_city_bounds(),
    )


def _city_bounds() -> str:
    """The city's bounding box as "minLat,minLong,maxLat,maxLong" (empty without a boundary)."""
    boundary = places.city_boundary()
    if boundary is None:
        return ""
    return ",".join(str(round(v, 6)) for v in places.geojson_bbox(boundary.geojson))


@bp.get("/photos/<path:key>")
@public
def photo(key: str):
    """A stored photo derivative, cached forever (its name is its content hash).

    Only keys shaped like the pipeline's own (``ab/cd/<sha256>-display.jpg``) are
    served, always as ``image/jpeg`` with ``nosniff``, never as a download or a page.
    """
    if not PHOTO_KEY.fullmatch(key):
        abort(404)
    store = photo_store()
    path = store.path(key)
    if path is not None:
        source = path
    else:
        try:
            source = io.BytesIO(store.open(key))
        except FileNotFoundError:
            abort(404)
    response = send_file(
        source, mimetype="image/jpeg", max_age=PHOTO_CACHE_SECONDS, conditional=True,
        etag=key.rsplit("/", 1)[-1],
    )
    response.headers["Cache-Control"] = f"public, max-age={PHOTO_CACHE_SECONDS}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
