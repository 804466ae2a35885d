"""Public open-data downloads are bounded: none can hold the site's workers.

The full download and the daily and monthly change files are published files, sent with
their Content-Length. A pull computed on the spot (``updated_after``, ``service_code``) is
counted first; beyond ``EXPORT_MAX_ROWS`` (50 in the test settings) it is refused with the
addresses of the published files, and those pulls are rate-limited per address.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from tests import factories
from webapp.domain.figures import exports
from webapp.models import ServiceRequest
from webapp.plumbing import spot_downloads
from webapp.plumbing.extensions import db

OLD_WINDOW = "/export/requests.csv?updated_after=2000-01-01T00:00:00Z"
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _requests(count: int, service: str = "graffiti") -> list[ServiceRequest]:
    return [factories.gen_request(service, description=f"Report {n}") for n in range(count)]


def _last_updated(made: ServiceRequest, when: datetime) -> None:
    db.session.execute(
        update(ServiceRequest).where(ServiceRequest.id == made.id).values(updated_at=when)
    )
    db.session.commit()


def _get(client, path: str, **kwargs):
    """GET ``path``, read the whole body and close the response (no file is left open)."""
    with client.get(path, **kwargs) as response:
        response.get_data()
    return response


def _csv_ids(body: bytes) -> list[str]:
    return [row["service_request_id"] for row in csv.DictReader(io.StringIO(body.decode()))]


@pytest.fixture
def big_city(app, city, tmp_path):
    """Sixty public requests (the cap is fifty) and the job's published files."""
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    made = _requests(60)
    exports.publish(tmp_path / "exports", now=NOW, days=2, months=1)
    return made


def test_an_old_window_beyond_the_cap_is_refused_with_the_published_files(client, big_city):
    response = _get(client, OLD_WINDOW)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"]["max_rows"] == 50
    published = error["details"]["published"]
    assert published["manifest"].endswith("/export/requests-manifest.json")
    assert published["manifest"] in error["message"]
    assert published["full"]["csv"].endswith("/export/requests.csv")
    assert [c["period"] for c in published["changes"]] == ["2026-02", "2026-02-28", "2026-03-01"]
    assert published["changes"][-1]["csv"].endswith("/export/changes/requests-2026-03-01.csv")


def test_a_service_pull_beyond_the_cap_is_refused_too(client, big_city):
    response = _get(client, "/export/requests.geojson?service_code=graffiti")
    assert response.status_code == 422
    assert "published" in response.get_json()["error"]["details"]


def test_a_browser_gets_the_refusal_as_a_page_naming_the_manifest(client, big_city):
    response = _get(client, OLD_WINDOW, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "/export/requests-manifest.json" in response.get_data(as_text=True)


def test_a_window_within_the_cap_is_served_on_the_spot(client, big_city):
    changed = big_city[:10]
    for made in big_city:
        _last_updated(made, datetime(2026, 1, 5, tzinfo=UTC))
    for made in changed:
        _last_updated(made, datetime(2026, 3, 1, 12, tzinfo=UTC))
    response = _get(client, "/export/requests.csv?updated_after=2026-02-01T00:00:00Z")
    assert response.status_code == 200
    assert _csv_ids(response.get_data()) == [m.public_id for m in changed]
    other = _get(client, "/export/requests.csv?service_code=pothole")
    assert other.status_code == 200 and _csv_ids(other.get_data()) == []


def test_the_full_download_is_the_published_file_with_its_length(client, big_city):
    response = _get(client, "/export/requests.csv")
    body = response.get_data()
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(body)
    assert response.headers["X-Export-Rows"] == "60"
    assert len(_csv_ids(body)) == 60


def test_before_the_job_a_city_beyond_the_cap_is_told_to_come_back(app, client, city, tmp_path):
    app.config["EXPORT_DIR"] = str(tmp_path / "never-published")
    _requests(51)
    response = _get(client, "/export/requests.csv")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error"]["details"]["published"]["full"] == {}


def test_the_change_files_hold_the_requests_last_updated_in_their_period(app, client, city, tmp_path):
    folder = tmp_path / "exports"
    app.config["EXPORT_DIR"] = str(folder)
    day_before, last_day, in_february, today, january = _requests(5)
    _last_updated(day_before, datetime(2026, 2, 28, 0, 0, tzinfo=UTC))
    _last_updated(last_day, datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    _last_updated(in_february, datetime(2026, 2, 10, tzinfo=UTC))
    _last_updated(today, datetime(2026, 3, 2, 8, tzinfo=UTC))
    _last_updated(january, datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
    exports.publish(folder, now=NOW, days=2, months=1)

    manifest = _get(client, "/export/requests-manifest.json").get_json()
    periods = {entry["period"]: entry for entry in manifest["changes"]}
    assert sorted(periods) == ["2026-02", "2026-02-28", "2026-03-01"]
    assert periods["2026-02"]["grain"] == "month"
    assert periods["2026-03-01"]["from"].startswith("2026-03-01T00:00:00")
    expected = {
        "2026-02": [day_before.public_id, in_february.public_id],
        "2026-02-28": [day_before.public_id],
        "2026-03-01": [last_day.public_id],
    }
    for period, ids in expected.items():
        response = _get(client, f"/export/changes/requests-{period}.csv")
        body = response.get_data()
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(body)
        assert periods[period]["csv"]["bytes"] == len(body)
        assert response.headers["X-Export-Rows"] == str(len(ids))
        assert _csv_ids(body) == ids
    geo = _get(client, "/export/changes/requests-2026-02.geojson")
    assert len(json.loads(geo.get_data())["features"]) == 2
    assert int(geo.headers["Content-Length"]) == periods["2026-02"]["geojson"]["bytes"]


@pytest.mark.parametrize(
    "path",
    [
        "/export/changes/requests-2025-01.csv",
        "/export/changes/requests-..%2Frequests.csv",
        "/export/changes/requests-2026-02.xml",
    ],
)
def test_a_change_file_not_in_the_manifest_is_not_found(client, big_city, path):
    assert _get(client, path).status_code == 404


def test_change_files_that_fell_out_of_the_window_are_removed(app, city, tmp_path):
    folder = tmp_path / "exports"
    _requests(1)
    exports.publish(folder, now=NOW, days=2, months=0)
    exports.publish(folder, now=datetime(2026, 3, 3, 1, tzinfo=UTC), days=2, months=0)
    names = sorted(path.name for path in (folder / "changes").iterdir())
    assert names == [
        "requests-2026-03-01.csv",
        "requests-2026-03-01.geojson",
        "requests-2026-03-02.csv",
        "requests-2026-03-02.geojson",
    ]


@pytest.mark.parametrize(
    ("now", "days", "months", "expected"),
    [
        (NOW, 2, 2, ["2026-01", "2026-02", "2026-02-28", "2026-03-01"]),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), 1, 1, ["2025-12", "2025-12-31"]),
        (datetime(2026, 3, 1, 5, tzinfo=UTC), 0, 1, ["2026-02"]),
    ],
)
def test_change_periods_are_the_complete_utc_days_and_months(now, days, months, expected):
    periods = exports.change_periods(now, days, months)
    assert [p.name for p in periods] == expected
    assert all(p.end <= now for p in periods)


def test_on_the_spot_pulls_are_rate_limited_but_the_published_files_are_not(
    make_app, tmp_path
):
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_EXPORT="2 per hour", EXPORT_DIR=str(tmp_path / "x")
    )
    with app.app_context():
        factories.gen_city()
        _requests(1)
        exports.publish(tmp_path / "x", now=NOW, days=1, months=0)
        client = app.test_client()
        pulls = [_get(client, "/export/requests.csv?service_code=graffiti") for _ in range(3)]
        assert [r.status_code for r in pulls] == [200, 200, 429]
        assert pulls[-1].headers["Retry-After"]
        assert [_get(client, "/export/requests.csv").status_code for _ in range(3)] == [200] * 3
        assert _get(client, "/export/changes/requests-2026-03-01.csv").status_code == 200


def test_a_pull_while_the_process_computes_its_share_is_asked_to_come_back(app, client, city):
    made = _requests(2)
    with app.test_request_context():
        slots = spot_downloads.permits()
    assert slots.acquire(blocking=False)  # another pull is being computed
    try:
        busy = _get(client, "/export/requests.csv?service_code=graffiti")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == spot_downloads.BUSY_RETRY_AFTER
        assert "published" in busy.get_json()["error"]["details"]
    finally:
        slots.release()
    served = _get(client, "/export/requests.csv?service_code=graffiti")
    assert served.status_code == 200
    assert _csv_ids(served.get_data()) == [m.public_id for m in made]
    # The finished download gave its permit back.
    assert _get(client, "/export/requests.csv?service_code=graffiti").status_code == 200


def test_a_pull_is_refused_in_spanish_too(client, big_city):
    response = _get(client, OLD_WINDOW, headers={"Accept-Language": "es"})
    assert response.status_code == 422
    assert "demasiado grande" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("method", ["head", "cut"])
def test_a_pull_never_read_to_the_end_gives_its_permit_back(app, client, city, method):
    _requests(3)
    path = "/export/requests.csv?service_code=graffiti"
    if method == "head":
        with client.head(path) as response:  # the server closes what it never reads
            assert response.status_code == 200
    else:
        with client.get(path) as response:
            next(response.response)  # the first chunk only, then the caller goes away
    with app.test_request_context():
        slots = spot_downloads.permits()
    assert slots.acquire(blocking=False)
    slots.release()


def test_the_staff_export_shares_the_permits_and_gives_its_own_back(app, client, auth, city):
    made = _requests(2)
    auth.login("staff")
    with app.test_request_context():
        permits = spot_downloads.permits()
    assert permits.acquire(blocking=False)  # a public pull is being computed
    try:
        busy = _get(client, "/staff/export/requests.csv")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == spot_downloads.BUSY_RETRY_AFTER
        assert "try again in a few seconds" in busy.get_data(as_text=True)
    finally:
        permits.release()
    served = _get(client, "/staff/export/requests.csv")
    assert served.status_code == 200
    assert sorted(_csv_ids(served.get_data())) == sorted(m.public_id for m in made)
    # While a staff export streams, a public pull waits its turn; once it ends, it is served.
    with client.get("/staff/export/requests.geojson") as streaming:
        next(streaming.response)
        assert _get(client, "/export/requests.csv?service_code=graffiti").status_code == 503
    assert _get(client, "/export/requests.csv?service_code=graffiti").status_code == 200
