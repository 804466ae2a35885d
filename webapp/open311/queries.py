"""The read side of Open311: public requests as plain rows, fast enough for 1,000 at once.

One SELECT of the needed columns (request, service, department; duplicate only for
extensions) filtered and ordered on indexed columns, then one query each for the
latest public notes, the first report photos and, with extensions, all public notes
and photos of the page. No ORM objects are built and nothing is lazy-loaded per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, bindparam, func, select
from sqlalchemy.orm import aliased, selectinload

from webapp.domain.figures.mapread import w3c_column
from webapp.domain.geo import places
from webapp.domain.open311 import remote_media
from webapp.models import (
    Channel,
    Department,
    EventKind,
    Photo,
    PhotoKind,
    RequestEvent,
    Service,
    ServiceRequest,
)
from webapp.open311.params import RequestQuery
from webapp.plumbing.extensions import db

NOTE_KINDS = (
    EventKind.ACKNOWLEDGED,
    EventKind.STATUS_CHANGED,
    EventKind.PUBLIC_NOTE,
    EventKind.REOPENED,
)
MEDIA_URL_KEY = "media_url"
NEWEST_FIRST = (ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
ID_CHUNK = 500


@dataclass
class RequestPage:
    """A page of public requests and what was looked up about them."""

    rows: list[Any]
    services: dict[int, Any] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)
    status_notes: dict[int, str] = field(default_factory=dict)
    first_photo: dict[int, str] = field(default_factory=dict)
    media_urls: dict[int, str] = field(default_factory=dict)
    photos: dict[int, list[Photo]] = field(default_factory=dict)
    notes: dict[int, list[Any]] = field(default_factory=dict)


def _request_columns() -> tuple:
    """The columns of a request answer; its times come formatted by the database
    (``requested_datetime``, ``updated_datetime``, ``expected_datetime``), which spares a
    1,000-row page three thousand datetime conversions in Python."""
    return (
        *REQUEST_COLUMNS,
        w3c_column(ServiceRequest.received_at, "requested_datetime"),
        w3c_column(ServiceRequest.updated_at, "updated_datetime"),
        w3c_column(ServiceRequest.expected_at, "expected_datetime"),
    )


REQUEST_COLUMNS = (
    ServiceRequest.id,
    ServiceRequest.public_id,
    ServiceRequest.service_id,
    ServiceRequest.department_id,
    ServiceRequest.status,
    ServiceRequest.detailed_status,
    ServiceRequest.resolution,
    ServiceRequest.resolution_note,
    ServiceRequest.referred_to,
    ServiceRequest.channel,
    ServiceRequest.description,
    ServiceRequest.address,
    ServiceRequest.zipcode,
    ServiceRequest.lat,
    ServiceRequest.long,
)


def _catalogue(page: RequestPage) -> None:
    """Every service and department, by id: two small tables read once per answer.

    Looking names up here keeps the main SELECT on ``service_requests`` alone, so
    the database walks the ``received_at`` index newest-first and stops at the page
    size instead of joining first and sorting every match.
    """
    page.services = {
        row.id: row
        for row in db.session.execute(
            select(
                Service.id,
                Service.service_code,
                Service.name,
                Service.public,
                Service.translations,  # names in the caller's language
            )
        )
    }
    page.departments = dict(db.session.execute(select(Department.id, Department.name)).all())


def _base(page: RequestPage, extensions: bool) -> Select:
    """The column SELECT behind every request answer (public services only)."""
    query = select(*_request_columns())
    if extensions:
        duplicate = aliased(ServiceRequest)
        query = query.add_columns(duplicate.public_id.label("duplicate_of")).outerjoin(
            duplicate, duplicate.id == ServiceRequest.duplicate_of_id
        )
    private = [service_id for service_id, row in page.services.items() if not row.public]
    if private:
        query = query.where(ServiceRequest.service_id.not_in(private))
    return query


def _near(query: Select, lat: float, long: float, radius_m: float) -> Select:
    """Keep requests within ``radius_m`` metres of the point.

    The bounding box is asked of the spatial index (``places.in_box``: GiST on
    PostgreSQL, whose entries carry what the page's order needs, see ``_page_by_ids``;
    R*Tree on SQLite); the circle test is an equirectangular distance in SQL (plain arithmetic on every backend), which at
    these radii differs from the great-circle distance by well under 0.1%.
    """
    min_lat, min_long, max_lat, max_long = places.bounding_box(lat, long, radius_m)
    metres_per_degree = places.METRES_PER_DEGREE_LAT
    shrink = math.cos(math.radians(lat))
    d_north = (ServiceRequest.lat - lat) * metres_per_degree
    d_east = (ServiceRequest.long - long) * (metres_per_degree * shrink)
    return query.where(
        places.in_box(min_lat, min_long, max_lat, max_long),
        d_north * d_north + d_east * d_east <= radius_m * radius_m,
    )


def _page_by_ids(page: RequestPage, found: Select, extensions: bool) -> Select:
    """The page of a search around a point in two steps (PostgreSQL).

    The page's ids are chosen from the spatial index alone: it carries the columns the
    circle, the filters and the newest-first order need, so a busy circle (tens of
    thousands of requests) is sorted as narrow index entries without reading a table
    row. Only the page's own rows are then read, by id.
    """
    ids = found.with_only_columns(ServiceRequest.id).order_by(*NEWEST_FIRST)
    return _base(page, extensions).where(ServiceRequest.id.in_(ids.scalar_subquery()))


def _id_list(ids: list[int]) -> Select | list[int]:
    """The page's ids for the lookups: on PostgreSQL one array parameter unnested (a
    thousand separate bound values cost more to send and plan than the lookups
    themselves); on SQLite the plain list."""
    if db.session.get_bind().dialect.name != "postgresql":
        return ids
    return select(func.unnest(bindparam("page_ids", value=ids, type_=ARRAY(Integer))))


def _find_in_chunks(query: RequestQuery) -> RequestPage:
    """A long id list (a client syncing its whole backlog) read ``ID_CHUNK`` ids at a
    time, so no statement carries more bound values than a database accepts."""
    merged = RequestPage(rows=[])
    for start in range(0, len(query.ids), ID_CHUNK):
        part = find_requests(replace(query, ids=query.ids[start : start + ID_CHUNK]))
        merged.services, merged.departments = part.services, part.departments
        merged.rows.extend(part.rows)
        for name in ("status_notes", "first_photo", "media_urls", "photos", "notes"):
            getattr(merged, name).update(getattr(part, name))
    merged.rows.sort(key=lambda row: (row.requested_datetime, row.id), reverse=True)
    return merged


def find_requests(query: RequestQuery) -> RequestPage:
    """The page of public requests that ``query`` asks for, newest first."""
    if len(query.ids) > ID_CHUNK:
        return _find_in_chunks(query)
    page = RequestPage(rows=[])
    _catalogue(page)
    statement = _base(page, query.extensions)
    if query.ids:
        statement = statement.where(ServiceRequest.public_id.in_(query.ids))
    else:
        if query.service_codes:
            wanted = [
                service_id
                for service_id, row in page.services.items()
                if row.service_code in query.service_codes and row.public
            ]
            if not wanted:
                return page
            statement = statement.where(ServiceRequest.service_id.in_(wanted))
        if query.statuses:
            statement = statement.where(ServiceRequest.status.in_(query.statuses))
        if query.start:
            statement = statement.where(ServiceRequest.received_at >= query.start)
        if query.end:
            statement = statement.where(ServiceRequest.received_at <= query.end)
        if query.updated_after:
            statement = statement.where(ServiceRequest.updated_at >= query.updated_after)
        if query.updated_before:
            statement = statement.where(ServiceRequest.updated_at <= query.updated_before)
        if query.near:
            statement = _near(statement, *query.near)
        statement = statement.limit(query.page_size).offset((query.page - 1) * query.page_size)
        if query.near and db.session.get_bind().dialect.name == "postgresql":
            statement = _page_by_ids(page, statement, query.extensions)
    statement = statement.order_by(*NEWEST_FIRST)
    page.rows = db.session.execute(statement).all()
    if page.rows:
        if query.near:
            # The circle was found once through the spatial index; the lookups take
            # the page's ids rather than asking the index (and sorting) again.
            ids = _id_list([row.id for row in page.rows])
        else:
            ids = statement.with_only_columns(ServiceRequest.id)
        _annotate(page, ids, query.extensions)
    return page


def _annotate(page: RequestPage, ids: Select | list[int], extensions: bool) -> None:
    """Look up notes and photos for the whole page at once (never per row).

    ``ids`` is usually the page's own SELECT of request ids, used as a subquery:
    the database re-runs the indexed page query (about a millisecond) instead of
    receiving 1,000 bound parameters per lookup. A search around a point is not
    that cheap to re-run (a spatial lookup, then a sort), so it passes its ids. Public notes are few per request,
    so they are all read through the (request_id, created_at) index and the latest
    is picked here: cheaper than a GROUP BY.
    """
    latest: dict[int, int] = {}
    for event in db.session.execute(
        select(
            RequestEvent.id,
            RequestEvent.request_id,
            RequestEvent.kind,
            RequestEvent.note,
            RequestEvent.created_at,
        ).where(
            RequestEvent.request_id.in_(ids),
            RequestEvent.public.is_(True),
            RequestEvent.note.is_not(None),
            RequestEvent.kind.in_(NOTE_KINDS),
        )
    ):
        if event.id > latest.get(event.request_id, 0):
            latest[event.request_id] = event.id
            page.status_notes[event.request_id] = event.note
        if extensions:
            page.notes.setdefault(event.request_id, []).append(event)
    for row in page.rows:
        if row.id not in page.status_notes and row.resolution_note:
            page.status_notes[row.id] = row.resolution_note
    for notes in page.notes.values():
        notes.sort(key=lambda event: event.id)

    for request_id, display_key in db.session.execute(
        select(Photo.request_id, Photo.display_key)
        .where(Photo.request_id.in_(ids), Photo.kind == PhotoKind.REPORT)
        .order_by(Photo.request_id, Photo.id)
    ):
        page.first_photo.setdefault(request_id, display_key)

    posted = [
        row.id
        for row in page.rows
        if row.channel == Channel.OPEN311 and row.id not in page.first_photo
    ]
    if posted:
        for request_id, data in db.session.execute(
            select(RequestEvent.request_id, RequestEvent.data).where(
                RequestEvent.request_id.in_(posted), RequestEvent.kind == EventKind.CREATED
            )
        ):
            if (data or {}).get(MEDIA_URL_KEY):
                page.media_urls[request_id] = remote_media.without_credentials(
                    str(data[MEDIA_URL_KEY])
                )

    if extensions:
        for photo in db.session.scalars(
            select(Photo).where(Photo.request_id.in_(ids)).order_by(Photo.request_id, Photo.id)
        ):
            page.photos.setdefault(photo.request_id, []).append(photo)


def public_services(code: str | None = None) -> list[Service]:
    """Active public services by name (with their attributes), or the one with ``code``."""
    statement = (
        select(Service)
        .where(Service.active.is_(True), Service.public.is_(True))
        .options(selectinload(Service.attributes))
        .order_by(Service.group, Service.name)
    )
    if code is not None:
        statement = statement.where(Service.service_code == code)
    return list(db.session.scalars(statement))
