"""Public map reads: the request list in a box (fast path) and grid clusters.

Anonymous reads carry ``ETag``/``Last-Modified`` and a short ``max-age`` so a proxy or
the browser absorbs a storm of identical pans; a conditional request is answered 304
from two index lookups, before the query runs. Service names and status labels are in
the caller's language, so the ETag holds the language and the answer varies on it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time

from flask import Response, request
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import ClusterQuery, MapFilterQuery, RequestListQuery
from webapp.api.responses import ClusterList
from webapp.api.schema import inputs, operation
from webapp.api.serialize import RowSerializer
from webapp.domain.errors import DomainError
from webapp.domain.figures import mapread
from webapp.i18n import chosen_by_headers
from webapp.plumbing.access import public
from webapp.plumbing.sessions import current_account

PUBLIC_MAX_AGE = 30


# What the document declares: a date, or a date and time with its offset (RFC 3339).
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _since(raw: str | None) -> datetime | None:
    """``since`` as an aware time: a date is its midnight in UTC."""
    if not raw:
        return None
    try:
        if DATE.fullmatch(raw):
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        if DATE_TIME.fullmatch(raw):
            return datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        pass
    raise DomainError(
        _("since must be an ISO 8601 date or date and time."), status=400, field="since"
    )


def map_filters(query: MapFilterQuery) -> mapread.MapFilters:
    """The shared filters of the map reads, from the declared and checked query."""
    return mapread.MapFilters(
        bbox=query.bbox,
        status=query.status,
        service_code=query.service_code,
        since=_since(query.since),
    )


def _validators() -> tuple[str, datetime | None] | None:
    """(ETag, Last-Modified) for an anonymous read, or None when the caller is signed in."""
    if current_account() is not None:
        return None
    digest, newest = mapread.freshness()
    query = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    tag = hashlib.sha256(f"{digest}|{get_locale()}|{request.path}|{query}".encode()).hexdigest()
    return tag[:24], newest


def _not_modified(validators) -> Response | None:
    if validators is None:
        return None
    tag, newest = validators
    if request.if_none_match and request.if_none_match.contains(tag):
        return _cacheable(Response(status=304), validators)
    if (
        not request.if_none_match
        and newest is not None
        and request.if_modified_since is not None
        and newest.replace(microsecond=0) <= request.if_modified_since
    ):
        return _cacheable(Response(status=304), validators)
    return None


def _cacheable(response: Response, validators) -> Response:
    """Mark an anonymous read as shareable for a short while; signed-in reads as private.

    Service names and status labels are in the reader's language: the ETag holds it and
    the answer varies on ``Accept-Language``; a language chosen by cookie or device (which
    a shared cache cannot see) keeps the answer in the reader's own cache only.
    """
    if validators is None:
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    tag, newest = validators
    response.set_etag(tag)
    if newest is not None:
        response.last_modified = newest
    scope = "public" if chosen_by_headers() else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={PUBLIC_MAX_AGE}"
    # The envelope sets no Vary of its own (compression adds Accept-Encoding later);
    # setting it is cheaper than werkzeug's parse-and-add.
    response.headers["Vary"] = "Accept-Language"
    return response


def list_requests_response(query: RequestListQuery) -> Response:
    """Public requests, newest first, in pages (offset or keyset) with a capped total."""
    filters = map_filters(query)
    page_number, page_size = query.page, query.page_size
    after = query.after
    validators = _validators()
    cached = _not_modified(validators)
    if cached is not None:
        return cached
    try:
        found = mapread.page(filters, page_size=page_size, page_number=page_number, after=after)
    except mapread.BadCursor:
        raise DomainError(_("after is not a cursor this server gave."), status=400,
                          field="after") from None
    serializer = RowSerializer()
    data = [serializer.row(row, found.photos.get(row[0], ())) for row in found.rows]
    meta = {
        "page": page_number,
        "page_size": page_size,
        "total": found.total,
        "pages": max(1, (found.total + page_size - 1) // page_size) if found.total else 0,
        "total_is_exact": found.total_is_exact,
        "next_after": found.next_after,
    }
    return _cacheable(envelope(data, meta=meta), validators)


@bp.get("/requests/clusters")
@public
@operation(tags=["requests"], query=ClusterQuery, returns=ClusterList)
def request_clusters():
    """Public requests grouped on a grid sized for the zoom level, with lone ones as markers."""
    query = inputs().query
    filters = map_filters(query)
    zoom = query.zoom
    validators = _validators()
    cached = _not_modified(validators)
    if cached is not None:
        return cached
    clusters, total = mapread.clusters(filters, zoom)
    serializer = RowSerializer()
    data = [
        {
            "lat": c.lat,
            "long": c.long,
            "count": c.count,
            "request": serializer.single(c.request) if c.request is not None else None,
        }
        for c in clusters
    ]
    meta = {"zoom": zoom, "cell_degrees": mapread.cell_degrees(zoom), "total": total}
    return _cacheable(envelope(data, meta=meta), validators)
