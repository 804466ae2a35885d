"""Spatial indexes: SQLite's R*Tree and PostgreSQL's GiST on point(long, lat) stay in
step with requests, answer nearby and radius searches exactly, and are what the
database actually uses."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import insert, select, text, update

from tests import factories
from webapp.domain.geo import places
from webapp.models import ServiceRequest, Status, utcnow
from webapp.plumbing.extensions import db

CENTRE = (35.045, -85.31)


def _scatter(city, count: int, seed: int = 7, spread: float = 0.01) -> list[dict]:
    """``count`` requests around CENTRE in one bulk insert; a quarter closed, mixed services."""
    rng = random.Random(seed)
    services = [city["graffiti"].id, city["pothole"].id, city["streetlight"].id]
    now = utcnow()
    rows = []
    for number in range(count):
        closed = rng.random() < 0.25
        rows.append({
            "public_id": f"T-{seed}-{number}",
            "service_id": rng.choice(services),
            "lat": CENTRE[0] + rng.uniform(-spread, spread),
            "long": CENTRE[1] + rng.uniform(-spread, spread),
            "status": "closed" if closed else "open",
            "detailed_status": Status.CLOSED if closed else Status.SUBMITTED,
            "received_at": now,
            "updated_at": now,
            "description": "",
            "attribute_values": {},
        })
    db.session.execute(insert(ServiceRequest), rows)
    db.session.commit()
    return rows


def _brute_force(lat, long, radius, service_id=None, limit=10):
    found = []
    for row in db.session.execute(
        select(ServiceRequest.id, ServiceRequest.lat, ServiceRequest.long,
               ServiceRequest.service_id, ServiceRequest.detailed_status)
    ):
        if row.detailed_status == Status.CLOSED:
            continue
        if service_id is not None and row.service_id != service_id:
            continue
        distance = places.distance_m(lat, long, row.lat, row.long)
        if distance <= radius:
            found.append((round(distance, 6), row.id))
    return sorted(found)[:limit]


def _in_box_ids(min_lat, min_long, max_lat, max_long) -> set[int]:
    return set(db.session.scalars(
        select(ServiceRequest.id).where(places.in_box(min_lat, min_long, max_lat, max_long))
    ))


def test_the_index_follows_requests_as_they_are_made_moved_and_removed(app, city):
    request = factories.gen_request("graffiti", lat=35.01, long=-85.34)
    assert request.id in _in_box_ids(35.0, -85.35, 35.02, -85.33)

    request.lat, request.long = 35.09, -85.26
    db.session.commit()
    assert request.id not in _in_box_ids(35.0, -85.35, 35.02, -85.33)
    assert request.id in _in_box_ids(35.08, -85.27, 35.1, -85.25)

    db.session.execute(update(ServiceRequest).where(ServiceRequest.id == request.id)
                       .values(lat=35.05))
    db.session.commit()
    assert request.id in _in_box_ids(35.049, -85.27, 35.051, -85.25)

    db.session.delete(request)
    db.session.commit()
    assert _in_box_ids(34.0, -86.0, 36.0, -84.0) == set()


@pytest.mark.parametrize("radius, limit, service", [
    (200, 10, None),
    (500, 5, "pothole"),
    (2000, 40, None),
    (2000, 200, "streetlight"),
    (30, 10, None),
])
def test_nearby_finds_exactly_the_nearest_open_requests(app, city, radius, limit, service):
    _scatter(city, 600)
    rng = random.Random(radius + limit)
    service_id = city[service].id if service else None
    for _ in range(5):
        lat = CENTRE[0] + rng.uniform(-0.008, 0.008)
        long = CENTRE[1] + rng.uniform(-0.008, 0.008)
        found = places.nearby_open_requests(lat, long, radius, service_id=service_id,
                                            limit=limit)
        assert [(round(n.distance_m, 6), n.request.id) for n in found] == _brute_force(
            lat, long, radius, service_id, limit)


def test_radius_search_in_open311_keeps_exactly_the_circle(app, city, client):
    rows = _scatter(city, 300, seed=11)
    lat, long = CENTRE
    body = client.get(
        f"/open311/v2/requests.json?lat={lat}&long={long}&radius=400&page_size=1000"
    ).get_json()
    expected = {
        row["public_id"]
        for row in rows
        if places.distance_m(lat, long, row["lat"], row["long"]) <= 399
    }
    returned = {item["service_request_id"] for item in body}
    assert expected <= returned
    assert all(
        places.distance_m(lat, long, row["lat"], row["long"]) <= 401
        for row in rows if row["public_id"] in returned
    )


def test_the_database_answers_boxes_from_its_spatial_index(app, city):
    _scatter(city, 50)
    query = places.nearby_prefilter(*CENTRE, 300)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
        # Either GiST index answers the box: the open requests' own, or the one over every
        # request (which carries the status); on a few rows the planner's costs tie.
        assert re.search(r"Index (Only )?Scan using ix_service_requests_(open_)?point\b", plan), plan
    else:
        plan = " ".join(str(row[-1]) for row in db.session.execute(
            text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "service_requests_rtree VIRTUAL TABLE INDEX" in plan
