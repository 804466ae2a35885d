"""The full open-data export is published as files by a job: complete or absent,
served with a Content-Length and a manifest of rows and checksums, so a cut download
cannot pass for a complete one; ``updated_after`` pulls only what changed; and the
shipped gunicorn configuration does not kill a response that is still streaming."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import factories
from webapp.domain.figures import exports
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def test_the_job_publishes_complete_files_with_a_manifest(app, client, city, tmp_path):
    made = [factories.gen_request("graffiti") for _ in range(3)]
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    result = app.test_cli_runner().invoke(args=["export-open-data"])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output

    with client.get("/export/requests.csv") as response:
        body = response.get_data()
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(body)
    assert response.headers["X-Export-Rows"] == "3"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["service_request_id"] for r in rows] == [r.public_id for r in made]

    with client.get("/export/requests-manifest.json") as response:
        manifest = response.get_json()
    assert manifest["csv"]["rows"] == 3
    assert manifest["csv"]["bytes"] == len(body)
    assert manifest["csv"]["sha256"] == hashlib.sha256(body).hexdigest()
    with client.get("/export/requests.geojson") as geo:
        assert len(json.loads(geo.get_data())["features"]) == 3
    assert int(geo.headers["Content-Length"]) == manifest["geojson"]["bytes"]


def test_a_failed_publication_leaves_the_previous_file_whole(app, city, tmp_path, monkeypatch):
    factories.gen_request("graffiti")
    folder = tmp_path / "exports"
    exports.publish(folder)
    before = (folder / "requests.csv").read_bytes()
    factories.gen_request("pothole")

    def broken(rows, private):
        yield "service_request_id\n"
        raise RuntimeError("database went away")

    monkeypatch.setattr(exports, "to_csv", broken)
    with pytest.raises(RuntimeError):
        exports.publish(folder)
    assert (folder / "requests.csv").read_bytes() == before
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_a_file_that_does_not_match_its_manifest_is_not_served(app, client, city, tmp_path):
    factories.gen_request("graffiti")
    app.config["EXPORT_DIR"] = str(tmp_path)
    exports.publish(tmp_path)
    with (tmp_path / "requests.csv").open("a") as damaged:
        damaged.write("half a row,")
    response = client.get("/export/requests.csv")
    assert "X-Export-Rows" not in response.headers
    assert "half a row" not in response.get_data(as_text=True)


def test_updated_after_pulls_only_what_changed(client, city):
    old = factories.gen_request("graffiti", age_days=10)
    fresh = factories.gen_request("pothole")
    fresh.description = "Now deeper"
    db.session.commit()
    # A moment between the two, from their own stored times (never the wall clock: a
    # second may tick between making a request and reading the clock).
    between = old.updated_at + (fresh.updated_at - old.updated_at) / 2
    since = between.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    text = client.get(f"/export/requests.csv?updated_after={since}").get_data(as_text=True)
    assert fresh.public_id in text and old.public_id not in text
    assert client.get("/export/requests.csv?updated_after=yesterday").status_code == 400


SLOW_APP = '''
import time
from flask import Flask, Response
app = Flask(__name__)

@app.get("/slow")
def slow():
    def body():
        for number in range(8):
            time.sleep(0.5)
            yield f"{number} "
    return Response(body(), mimetype="text/plain")
'''


def test_the_shipped_gunicorn_config_lets_a_long_response_finish(tmp_path):
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    port = 18000 + (hash(str(tmp_path)) % 1000)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--timeout", "2", "--workers", "1", "--chdir", str(tmp_path), "slowapp:app"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/slow", timeout=10) as r:
                    body = r.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # Four seconds of streaming under a two-second worker timeout, and complete.
        assert body.split() == [str(n) for n in range(8)]
    finally:
        process.terminate()
        process.wait(10)


def test_the_published_csv_keeps_formula_cells_inert(app, client, city, tmp_path):
    made = factories.gen_request("graffiti", description='=HYPERLINK("http://evil.example","Hi")')
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    exports.publish(tmp_path / "exports")

    with client.get("/export/requests.csv") as response:
        body = response.get_data(as_text=True)
    assert response.headers["X-Export-Rows"] == "1"  # the job's file, not the live stream
    (row,) = csv.DictReader(io.StringIO(body))
    assert row["service_request_id"] == made.public_id
    assert row["description"] == '\'=HYPERLINK("http://evil.example","Hi")'
    assert row["long"].startswith("-")  # numbers stay numbers
