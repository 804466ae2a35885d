"""The public map's reads: grid clusters, the fast request list, keyset paging, capped
totals and HTTP caching for anonymous callers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from webapp.domain.figures import mapread
from webapp.domain.lifecycle import workflow as rules
from webapp.models import utcnow
from webapp.plumbing.extensions import db

CITY_BBOX = "-85.35,35.0,-85.25,35.1"


def _clusters(client, query: str) -> dict:
    response = client.get(f"/api/v1/requests/clusters?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_clusters_group_near_requests_at_a_city_zoom_and_split_them_up_close(client, city):
    west = [factories.gen_request("graffiti", lat=35.0451 + i * 0.0001, long=-85.3101)
            for i in range(3)]
    east = factories.gen_request("pothole", lat=35.045, long=-85.27)

    whole_city = _clusters(client, f"bbox={CITY_BBOX}&zoom=11")
    counts = sorted(c["count"] for c in whole_city["data"])
    assert counts == [1, 3]
    assert whole_city["meta"]["total"] == 4
    lone = next(c for c in whole_city["data"] if c["count"] == 1)
    assert lone["request"]["id"] == east.public_id
    assert lone["request"]["url"] == f"/requests/{east.public_id}"
    assert lone["request"]["service_name"] == "Pothole"
    assert lone["request"]["status_label"] == "Received"
    group = next(c for c in whole_city["data"] if c["count"] == 3)
    assert group["request"] is None
    assert group["lat"] == pytest.approx(35.0452, abs=1e-4)

    street = _clusters(client, "bbox=-85.312,35.044,-85.308,35.047&zoom=21")
    assert sorted(c["request"]["id"] for c in street["data"]) == sorted(
        r.public_id for r in west
    )


def test_clusters_follow_the_status_service_and_time_filters(client, city):
    old = factories.gen_request("graffiti", lat=35.02, long=-85.33, age_days=40)
    fresh = factories.gen_request("streetlight", lat=35.08, long=-85.26)
    done = factories.gen_request("graffiti", lat=35.05, long=-85.28)
    rules.transition(done, "closed", factories.gen_user("staff"), note="Done", resolution="fixed")
    db.session.commit()

    def ids(query):
        body = _clusters(client, f"bbox={CITY_BBOX}&zoom=14&{query}")
        return sorted(c["request"]["id"] for c in body["data"])

    assert ids("status=open") == sorted([old.public_id, fresh.public_id])
    assert ids("status=closed") == [done.public_id]
    assert ids("service_code=streetlight") == [fresh.public_id]
    since = (utcnow() - timedelta(days=7)).date().isoformat()
    assert ids(f"since={since}") == sorted([fresh.public_id, done.public_id])


@pytest.mark.parametrize(
    "query, field",
    [("zoom=40", "zoom"), ("zoom=x", "zoom"), ("since=yesterday", "since"),
     ("status=maybe", "status"), ("bbox=1,2,3", "bbox")],
)
def test_bad_cluster_parameters_get_400_naming_the_field(client, city, query, field):
    response = client.get(f"/api/v1/requests/clusters?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field


def test_keyset_cursor_walks_every_request_once_newest_first(client, city):
    made = [factories.gen_request("graffiti", age_days=i) for i in range(7)]
    seen, after = [], None
    while True:
        query = "page_size=3" + (f"&after={after}" if after else "")
        body = client.get(f"/api/v1/requests?{query}").get_json()
        seen += [r["id"] for r in body["data"]]
        after = body["meta"]["next_after"]
        if not after:
            break
    assert seen == [r.public_id for r in made]


def test_a_forged_cursor_is_a_400(client, city):
    response = client.get("/api/v1/requests?after=bm9wZQ")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "after"


def test_the_total_is_capped_and_says_so(client, city, monkeypatch):
    monkeypatch.setattr(mapread, "COUNT_CAP", 3)
    for _ in range(5):
        factories.gen_request("graffiti")
    meta = client.get("/api/v1/requests?page_size=2").get_json()["meta"]
    assert meta["total"] == 3 and meta["total_is_exact"] is False
    meta = client.get("/api/v1/requests?page_size=2&service_code=pothole").get_json()["meta"]
    assert meta["total"] == 0 and meta["total_is_exact"] is True


def test_fast_list_keeps_the_public_shape_of_one_request(client, city):
    made = factories.gen_request("pothole", attributes={"size": "large"})
    listed = client.get("/api/v1/requests").get_json()["data"][0]
    single = client.get(f"/api/v1/requests/{made.public_id}").get_json()["data"]
    single.pop("timeline")
    assert listed == single


def test_anonymous_reads_are_cacheable_and_revalidate_to_304(client, city):
    request = factories.gen_request("graffiti")
    first = client.get(f"/api/v1/requests?bbox={CITY_BBOX}")
    assert first.headers["Cache-Control"] == "public, max-age=30"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "Accept-Language" in first.headers["Vary"]
    again = client.get(
        f"/api/v1/requests?bbox={CITY_BBOX}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    other = client.get(
        f"/api/v1/requests?bbox={CITY_BBOX}&status=open",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert other.status_code == 200

    rules.transition(request, "closed", factories.gen_user("staff"), note="Done",
                     resolution="fixed")
    db.session.commit()
    changed = client.get(
        f"/api/v1/requests?bbox={CITY_BBOX}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200
    assert changed.get_json()["data"][0]["status"] == "closed"

    clusters = client.get(f"/api/v1/requests/clusters?bbox={CITY_BBOX}&zoom=12")
    assert clusters.headers["Cache-Control"] == "public, max-age=30"
    assert client.get(
        f"/api/v1/requests/clusters?bbox={CITY_BBOX}&zoom=12",
        headers={"If-None-Match": clusters.headers["ETag"]},
    ).status_code == 304


def test_signed_in_reads_are_private(client, city, auth):
    factories.gen_request("graffiti")
    auth.login("resident")
    response = client.get("/api/v1/requests")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in response.headers


def test_map_page_lists_requests_without_script_and_applies_its_filters(client, city):
    done = factories.gen_request("graffiti")
    rules.transition(done, "closed", factories.gen_user("staff"), note="Done", resolution="fixed")
    db.session.commit()
    waiting = factories.gen_request("pothole")
    page = client.get("/map").get_data(as_text=True)
    assert done.public_id in page and waiting.public_id in page
    assert 'data-clusters-url="/api/v1/requests/clusters"' in page
    closed_only = client.get("/map?status=closed").get_data(as_text=True)
    assert done.public_id in closed_only and waiting.public_id not in closed_only
    assert client.get("/map?status=bogus&period=9").status_code == 200


def test_map_reads_say_each_status_in_the_glossary_words(client, city):
    from webapp.domain.glossary import resolution_word, status_word

    staff = factories.gen_user("staff")
    seen = factories.gen_request("graffiti", lat=35.041, long=-85.31)
    rules.transition(seen, "acknowledged", staff)
    working = factories.gen_request("pothole", lat=35.042, long=-85.30)
    rules.transition(working, "in_progress", staff)
    fixed = factories.gen_request("graffiti", lat=35.043, long=-85.29)
    rules.transition(fixed, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()

    listed = client.get(f"/api/v1/requests?bbox={CITY_BBOX}").get_json()["data"]
    labels = {item["id"]: item["status_label"] for item in listed}
    with client.application.test_request_context():
        assert labels == {
            seen.public_id: status_word("acknowledged"),
            working.public_id: status_word("in_progress"),
            fixed.public_id: resolution_word("fixed"),
        }
    assert labels[seen.public_id] == "Seen by the city"
    for item in listed:  # the one serializer agrees with the full request shape
        full = client.get(f"/api/v1/requests/{item['id']}").get_json()["data"]
        assert item["status_label"] == full["status_label"]
    clusters = _clusters(client, "bbox=-85.312,35.040,-85.288,35.044&zoom=21")
    assert {c["request"]["id"]: c["request"]["status_label"] for c in clusters["data"]} == labels


def test_a_page_carries_each_request_s_own_photos_in_the_order_they_were_taken(client, city):
    from webapp.models import Photo

    bare = factories.gen_request("graffiti", age_days=2)
    one = factories.gen_request("pothole", age_days=1)
    two = factories.gen_request("streetlight")
    for request, kind, key in ((two, "report", "b1"), (one, "report", "a1"),
                               (two, "closure", "b2")):
        db.session.add(Photo(request_id=request.id, kind=kind, sha256=key * 32, width=640,
                             height=480, display_key=f"{key}.jpg", thumb_key=f"{key}-t.jpg"))
    db.session.commit()

    page = client.get(f"/api/v1/requests?bbox={CITY_BBOX}&page_size=2").get_json()
    rest = client.get(
        f"/api/v1/requests?bbox={CITY_BBOX}&page_size=2&after={page['meta']['next_after']}"
    ).get_json()
    photos = {r["id"]: r["photos"] for r in page["data"] + rest["data"]}
    assert photos[bare.public_id] == []
    assert [p["url"] for p in photos[one.public_id]] == ["/photos/a1.jpg"]
    assert [(p["kind"], p["url"], p["thumbnail_url"]) for p in photos[two.public_id]] == [
        ("report", "/photos/b1.jpg", "/photos/b1-t.jpg"),
        ("closure", "/photos/b2.jpg", "/photos/b2-t.jpg"),
    ]
    single = client.get(f"/api/v1/requests/{two.public_id}").get_json()["data"]
    assert single["photos"] == photos[two.public_id]
