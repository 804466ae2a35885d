"""The map's grid cell counts stay right through create, close, reopen, merge, a moved
pin, a new service and a deletion: after every step the incrementally kept table
equals a recount from the requests, and the clusters summed from it are the ones
grouped from the requests themselves."""

from __future__ import annotations

import random

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select

from tests import factories
from webapp.domain.figures import map_grid, mapread
from webapp.domain.lifecycle import after_closure as rules
from webapp.domain.lifecycle import location, merging, workflow
from webapp.models import MapCellRollup, Service, ServiceRequest, Status, utcnow
from webapp.plumbing.extensions import db

# A box in whole fine cells around the test city, so the counts answer it exactly.
WHOLE_CELLS = (
    map_grid.cell_index(-85.40, map_grid.LONG_ORIGIN) * map_grid.GRID_CELL - 180.0,
    map_grid.cell_index(34.98, map_grid.LAT_ORIGIN) * map_grid.GRID_CELL - 90.0,
    (map_grid.cell_index(-85.20, map_grid.LONG_ORIGIN) + 1) * map_grid.GRID_CELL - 180.0,
    (map_grid.cell_index(35.12, map_grid.LAT_ORIGIN) + 1) * map_grid.GRID_CELL - 90.0,
)


def _snapshot() -> set:
    return {
        (r.level, r.cell_x, r.cell_y, r.service_id, r.status, r.detailed_status, r.count,
         round(r.sum_lat, 6), round(r.sum_long, 6), r.sum_id)
        for r in db.session.scalars(select(MapCellRollup))
        if r.count
    }


def _fine_total() -> int:
    return sum(db.session.scalars(
        select(MapCellRollup.count).where(MapCellRollup.level == map_grid.GRID_ZOOM)
    ))


def _assert_matches_a_recount() -> None:
    db.session.commit()
    kept = _snapshot()
    map_grid.rebuild()
    db.session.commit()
    assert _snapshot() == kept


def _shape(found: tuple) -> tuple:
    clusters, total = found
    return total, sorted(
        (c.count, round(c.lat, 5), round(c.long, 5), c.request.id if c.request else None)
        for c in clusters
    )


def _assert_same_clusters(filters: mapread.MapFilters, zoom: int) -> None:
    assert mapread.rollup_serves(filters, zoom)
    summed = _shape(mapread._clusters_of(mapread._rollup_rows(filters, zoom)))
    grouped = _shape(mapread._clusters_of(mapread._request_rows(filters, zoom)))
    assert summed == grouped


def test_counts_follow_create_close_reopen_merge_move_and_delete(app, city):
    staff = factories.gen_user("staff")
    resident = factories.gen_user("resident")
    first = factories.gen_request("graffiti", requester=resident, lat=35.045, long=-85.31)
    second = factories.gen_request("graffiti", lat=35.0452, long=-85.3102)
    third = factories.gen_request("pothole", lat=35.06, long=-85.27)
    _assert_matches_a_recount()
    assert _fine_total() == 3

    workflow.transition(first, "closed", staff, note="Painted over", resolution="fixed")
    _assert_matches_a_recount()

    rules.reopen(first, "Still there", user=resident)
    _assert_matches_a_recount()

    merging.merge(second, first, staff, note="Same wall")
    _assert_matches_a_recount()

    location.place(third, staff, 35.08, -85.26)
    _assert_matches_a_recount()

    third.service = db.session.scalar(select(Service).where(Service.service_code == "graffiti"))
    _assert_matches_a_recount()

    db.session.delete(second)
    _assert_matches_a_recount()
    assert _fine_total() == 2


def test_a_lone_request_in_a_cell_is_named_by_the_counts(app, city):
    lone = factories.gen_request("pothole", lat=35.02, long=-85.33)
    factories.gen_request("graffiti", lat=35.08, long=-85.26)
    clusters, total = mapread.clusters(mapread.MapFilters(), 11)
    assert total == 2
    named = {c.request.public_id for c in clusters if c.request is not None}
    assert lone.public_id in named


def _scatter(count: int) -> None:
    """Requests over the city at random, some closed, in every service (bulk, then recount)."""
    rng = random.Random(7)
    services = list(db.session.scalars(select(Service.id)))
    now = utcnow()
    rows = []
    for number in range(count):
        closed = rng.random() < 0.4
        rows.append({
            "public_id": f"G-{number:05d}",
            "service_id": rng.choice(services),
            "lat": rng.uniform(34.99, 35.11),
            "long": rng.uniform(-85.39, -85.21),
            "status": "closed" if closed else "open",
            "detailed_status": Status.CLOSED if closed else rng.choice(
                [Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS]),
            "channel": "web",
            "received_at": now,
            "updated_at": now,
            "description": "",
            "attribute_values": {},
        })
    db.session.execute(insert(ServiceRequest), rows)
    map_grid.rebuild()
    db.session.commit()


@pytest.mark.parametrize("zoom", [3, 8, 11, 12, 13, 14, 15, 16])
def test_clusters_summed_from_the_counts_equal_clusters_of_the_requests(app, city, zoom):
    _scatter(400)
    services = list(db.session.scalars(select(Service.service_code)))
    for filters in (
        mapread.MapFilters(),
        mapread.MapFilters(bbox=WHOLE_CELLS),
        mapread.MapFilters(bbox=WHOLE_CELLS, status="open"),
        mapread.MapFilters(status="closed"),
        mapread.MapFilters(status=Status.IN_PROGRESS),
        mapread.MapFilters(bbox=WHOLE_CELLS, service_code=services[0]),
    ):
        _assert_same_clusters(filters, zoom)


def test_private_services_stay_off_the_summed_clusters(app, city):
    hidden = factories.gen_request("graffiti", lat=35.03, long=-85.3)
    factories.gen_request("pothole", lat=35.07, long=-85.26)
    db.session.get(Service, hidden.service_id).public = False
    db.session.commit()
    _assert_same_clusters(mapread.MapFilters(), 12)
    assert mapread.clusters(mapread.MapFilters(), 12)[1] == 1


def test_time_windows_and_close_zooms_group_the_requests_themselves(app, city):
    assert not mapread.rollup_serves(mapread.MapFilters(since=utcnow()), 11)
    assert not mapread.rollup_serves(mapread.MapFilters(), map_grid.GRID_ZOOM + 1)


def test_the_migration_counts_the_requests_already_there(app, city):
    factories.gen_request("graffiti", lat=35.045, long=-85.31)
    factories.gen_request("pothole", lat=35.06, long=-85.27)
    _scatter(50)
    kept = _snapshot()
    db.session.remove()
    downgrade(revision="0010")
    upgrade()
    assert _snapshot() == kept
