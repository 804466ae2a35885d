"""Photos on object storage: the S3 backend against a real local S3 server (moto's
server mode), through the real API — stored once, served back, nothing on disk."""

from __future__ import annotations

import pytest

from tests.api.test_photos_api import DATA, fetch_image, post_report, stored_files
from tests.fakes.s3 import LocalS3

BUCKET = "civic311-photos"


@pytest.fixture
def local_s3(monkeypatch):
    """A local S3 server with an empty bucket, and credentials for it in the environment."""
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("moto.server")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = LocalS3().start()
    client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    server.client = client
    yield server
    server.stop()


@pytest.fixture
def s3_app(make_app, local_s3):
    """An app whose photos live in the local bucket."""
    application = make_app(
        PHOTO_STORAGE="s3", S3_BUCKET=BUCKET, S3_ENDPOINT_URL=local_s3.url, S3_PREFIX="photos"
    )
    with application.app_context():
        yield application


def _objects(local_s3) -> list[str]:
    listing = local_s3.client.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_photos_are_stored_once_in_the_bucket_and_served_back(s3_app, local_s3):
    from tests import factories

    factories.gen_city()
    client = s3_app.test_client()
    photo = (DATA / "orientation6_gps.jpg").read_bytes()
    first = post_report(client, [("a.jpg", photo)])
    assert first.status_code == 201, first.get_json()
    keys = _objects(local_s3)
    assert len(keys) == 2 and all(k.startswith("photos/") for k in keys)
    assert stored_files(s3_app) == []

    shown = first.get_json()["data"]["photos"][0]
    assert fetch_image(client, shown["url"]).size == (shown["width"], shown["height"])
    assert max(fetch_image(client, shown["thumbnail_url"]).size) <= 400
    head = local_s3.client.head_object(Bucket=BUCKET, Key=keys[0])
    assert head["ContentType"] == "image/jpeg"

    second = post_report(client, [("b.jpg", photo)])
    assert second.status_code == 201
    assert _objects(local_s3) == keys
    missing = client.get("/photos/00/00/" + "0" * 64 + "-display.jpg")
    assert missing.status_code == 404
