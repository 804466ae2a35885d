"""The map read's statements run on the driver give exactly the rows SQLAlchemy gives:
every column's value and type (booleans, JSON, timestamps, text formatted by the
database), for every filter shape, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select

from tests import factories
from webapp.domain.figures import mapread
from webapp.domain.lifecycle import after_closure
from webapp.domain.lifecycle import workflow as rules
from webapp.models import Photo, ServiceRequest, utcnow
from webapp.plumbing.driver_reads import driver_rows
from webapp.plumbing.extensions import db

CITY = (-85.35, 35.0, -85.25, 35.1)


@pytest.fixture
def varied(city):
    """Requests in many states: closed, reopened, a duplicate, a pothole's JSON answers,
    one with no neighbourhood outside the boxes, photos on two of them."""
    staff = factories.gen_user("staff")
    old = factories.gen_request("graffiti", age_days=20)
    pothole = factories.gen_request("pothole", attributes={"size": "large"}, lat=35.07)
    closed = factories.gen_request("streetlight", age_days=3)
    rules.transition(closed, "closed", staff, note="Fixed", resolution="fixed")
    resident = factories.gen_user("resident")
    reopened = factories.gen_request("graffiti", age_days=2, requester=resident)
    rules.transition(reopened, "closed", staff, note="Done", resolution="fixed")
    after_closure.reopen(reopened, "Still there", user=resident)
    duplicate = factories.gen_request("graffiti")
    duplicate.duplicate_of_id = old.id
    for request, key in ((pothole, "p"), (closed, "c"), (pothole, "q")):
        db.session.add(Photo(request_id=request.id, kind="report", sha256=key * 64,
                             width=800, height=600, display_key=f"{key}.jpg",
                             thumb_key=f"{key}-t.jpg"))
    db.session.commit()
    return [old, pothole, closed, reopened, duplicate]


def _orm_rows(statement, values: dict) -> list[tuple]:
    return [tuple(row) for row in db.session.connection().execute(statement, values).all()]


FILTERS = [
    mapread.MapFilters(),
    mapread.MapFilters(bbox=CITY),
    mapread.MapFilters(bbox=CITY, status="open"),
    mapread.MapFilters(status="closed"),
    mapread.MapFilters(status="in_progress", service_code="graffiti"),
    mapread.MapFilters(service_code="pothole"),
    mapread.MapFilters(bbox=CITY, since=datetime.now(UTC) - timedelta(days=7)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_every_page_shape_gives_sqlalchemys_rows(app, varied, filters):
    shape = mapread._shape(filters)
    values = {**mapread._parameters(filters), "page_size": 3}
    for keyset, extra in ((False, {"skip": 0}), (False, {"skip": 3}),
                          (True, {"last_id": varied[-1].id})):
        statement = mapread._page_statement(shape, keyset)
        ours = driver_rows(db.session.connection(), statement, {**values, **extra})
        assert ours == _orm_rows(statement, {**values, **extra})
        for row in ours:
            found = dict(zip(mapread.PAGE_KEYS, row, strict=True))
            assert type(found["reopened"]) is bool and type(found["needs_location"]) is bool
            assert isinstance(found["attribute_values"], dict)
    assert mapread.capped_count(filters, cap=2)[0] <= 2  # builds and keeps the statement
    count = mapread._statement("count", shape, build=None)
    assert count is not None
    count_values = {**mapread._parameters(filters), "cap_plus_one": 3}
    assert driver_rows(db.session.connection(), count, count_values) == _orm_rows(
        count, count_values
    )


def test_the_whole_page_matches_and_reads_its_types(app, varied):
    found = mapread.page(mapread.MapFilters(bbox=CITY), page_size=10)
    rows = {row[1]: dict(zip(mapread.PAGE_KEYS, row, strict=True)) for row in found.rows}
    pothole, closed, reopened, duplicate = (rows[r.public_id] for r in varied[1:])
    assert pothole["attribute_values"] == {"size": "large"}
    assert closed["closed_datetime"].endswith("+00:00") and closed["resolution"] == "fixed"
    assert reopened["reopened"] is True and closed["reopened"] is False
    assert duplicate["duplicate_of"] == varied[0].public_id
    assert isinstance(pothole["lat"], float)
    photos = {request_id: [p[4] for p in listed] for request_id, listed in found.photos.items()}
    assert photos == {pothole["id"]: ["p.jpg", "q.jpg"], closed["id"]: ["c.jpg"]}


def test_photos_and_freshness_match_too(app, varied):
    ids = [r.id for r in varied]
    photos = mapread._photos_statement()
    values = {"ids": mapread._page_ids(ids)}
    assert driver_rows(db.session.connection(), photos, values) == _orm_rows(photos, values)

    digest, newest = mapread.freshness()
    latest = db.session.scalar(select(ServiceRequest.updated_at).order_by(
        ServiceRequest.updated_at.desc()).limit(1))
    assert newest == latest and newest.tzinfo is not None
    assert newest <= utcnow()
    assert len(digest) == 16


def test_an_expanding_in_is_refused_rather_than_run_wrongly(app, city):
    statement = select(ServiceRequest.id).where(
        ServiceRequest.id.in_(bindparam("ids", expanding=True))
    )
    with pytest.raises(ValueError, match="expanding"):
        driver_rows(db.session.connection(), statement, {"ids": [1, 2]})


def test_a_lost_connection_is_sqlalchemys_error_and_the_site_answers_503(app, client, city):
    from sqlalchemy.exc import DBAPIError

    from webapp.plumbing.errors import is_database_unreachable

    connection = db.session.connection()
    connection.connection.driver_connection.close()  # the database went away mid-request
    with pytest.raises(DBAPIError) as raised:
        mapread.freshness()
    assert raised.value.connection_invalidated
    assert is_database_unreachable(raised.value)
    db.session.rollback()
    db.session.remove()
    # The next read gets a fresh connection from the pool.
    assert client.get(f"/api/v1/requests?bbox={','.join(map(str, CITY))}").status_code == 200


def test_a_refused_statement_is_sqlalchemys_error_too(app, city):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    statement = select(text("no_such_column")).select_from(ServiceRequest)
    with pytest.raises(DBAPIError) as raised:
        driver_rows(db.session.connection(), statement)
    assert not raised.value.connection_invalidated
    db.session.rollback()


def test_the_page_keys_name_the_page_statement_s_columns(app, city):
    statement = mapread._page_statement(mapread._shape(mapread.MapFilters()), False)
    assert tuple(column.key for column in statement.selected_columns) == mapread.PAGE_KEYS
