"""Backups that restore: fill a city, back it up, wipe everything, restore, compare.

Runs on both databases: ``pg_dump``/``pg_restore`` on PostgreSQL, SQLite's online
backup API on SQLite. Every table's row count and every photo's checksum must come
back exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from tests import factories
from webapp.models import NotificationOutbox, ServiceRequest
from webapp.operations import backup
from webapp.plumbing.extensions import db


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def _photo_checksums(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _fill_a_city() -> None:
    city = factories.gen_city()
    staff = factories.gen_user("staff")
    for number in range(6):
        factories.gen_request(
            "pothole" if number % 2 else "graffiti",
            photos=[_jpeg((40 * number, 90, 200 - 20 * number))],
            contact_email=f"resident{number}@example.com",
            channel="pwa" if number < 4 else "phone",
        )
    db.session.commit()
    first = db.session.query(ServiceRequest).order_by(ServiceRequest.id).first()
    from webapp.domain.lifecycle import workflow as requests_domain

    requests_domain.transition(first, "closed", staff, note="Painted over.", resolution="fixed")
    db.session.commit()
    assert city and db.session.query(NotificationOutbox).count() > 0


def _counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return backup.table_counts(connection)


def _wipe_everything(app, kind: str) -> None:
    db.session.remove()
    if kind == "postgres":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.engine.dispose()
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    db.engine.dispose()
    shutil.rmtree(app.config["UPLOAD_DIR"])


def test_backup_wipe_restore_gives_back_every_row_and_every_photo(
    app, database_backend, tmp_path
):
    kind, _location = database_backend
    _fill_a_city()
    before = _counts()
    photos_before = _photo_checksums(Path(app.config["UPLOAD_DIR"]))
    assert before["service_requests"] == 6 and before["photos"] == 6
    assert len(photos_before) == 12  # a display and a thumbnail each

    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", "--to", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    (folder,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"] == before
    assert manifest["photos"]["files"] == photos_before
    assert manifest["engine"] == ("postgresql" if kind == "postgres" else "sqlite")

    _wipe_everything(app, kind)
    assert not Path(app.config["UPLOAD_DIR"]).exists()

    restored = runner.invoke(args=["restore", str(folder), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "Every table's row count matches the manifest." in restored.output
    assert _counts() == before
    assert _photo_checksums(Path(app.config["UPLOAD_DIR"])) == photos_before
    # The restored city works: the app reads a request and its photo again.
    request = db.session.query(ServiceRequest).order_by(ServiceRequest.id).first()
    client = app.test_client()
    assert client.get(f"/api/v1/requests/{request.public_id}").status_code == 200
    photo = client.get(f"/photos/{request.photos[0].display_key}")
    assert photo.status_code == 200
    assert hashlib.sha256(photo.get_data()).hexdigest() == photos_before[
        request.photos[0].display_key
    ]
    photo.close()


def test_a_damaged_backup_is_refused_before_anything_is_touched(app, city, tmp_path):
    factories.gen_request(photos=[_jpeg((10, 20, 30))])
    folder = backup.make_backup(tmp_path)
    before = _counts()
    photo = next((folder / "photos").rglob("*.jpg"))
    photo.write_bytes(photo.read_bytes()[:-10])
    with pytest.raises(backup.BackupError, match="missing or damaged"):
        backup.restore_backup(folder)
    assert _counts() == before
