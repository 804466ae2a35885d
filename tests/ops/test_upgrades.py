"""Upgrades without downtime: the previous release's code runs on the new schema.

During a rolling upgrade ``flask db upgrade`` runs first, while servers of the previous
release still answer. So every migration must only *expand* (see docs/upgrades.md):
the previous release's app must keep writing and reading on the new schema, and its
rows must read back in the new release. This test checks out the code as it was just
before the newest migration was added (``git archive``), runs that app in a
subprocess against a database migrated to the new head, and reads its rows back here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from tests import factories
from tests.conftest import skip_or_fail
from webapp.models import NotificationOutbox, ServiceRequest
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parents[2]
WRITE = {"X-Requested-With": "civic311"}

OLD_APP = r"""
import json, sys
import webapp
from webapp import create_app
from webapp.plumbing.config import TestingConfig
from webapp.plumbing.extensions import db

settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
settings.update(json.loads(sys.argv[1]))
app = create_app(settings)
out = {"code": webapp.__file__}
with app.app_context():
    client = app.test_client()
    sent = client.post(
        "/api/v1/requests",
        headers={"X-Requested-With": "civic311",
                 "Idempotency-Key": "9e9c3a1c-0000-4000-8000-00000000000a"},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
              "contact_email": "old-release@example.com"},
    )
    out["submit"] = sent.status_code
    public_id = sent.get_json()["data"]["id"]
    out["read_own"] = client.get(f"/api/v1/requests/{public_id}").status_code
    out["read_new"] = client.get(f"/api/v1/requests/{sys.argv[2]}").status_code
    out["list"] = client.get("/api/v1/requests").status_code
    try:
        from webapp.domain.notifications.email.email_channel import deliver_due as deliver_mail
    except ImportError:  # a release from before e-mail was a channel package of its own
        from webapp.domain.notifications.mail import deliver_due as deliver_mail
    from webapp.domain.lifecycle import workflow as requests_domain
    from webapp.models import ServiceRequest, User
    staff = db.session.get(User, int(sys.argv[3]))
    request = db.session.query(ServiceRequest).filter_by(public_id=public_id).one()
    requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
    db.session.commit()
    out["mail_sent"] = deliver_mail()
    out["public_id"] = public_id
print(json.dumps(out))
"""


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _previous_release(request) -> str:
    """The commit just before the newest migration was added (on the main line: a merged
    branch's own commits are not releases)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        skip_or_fail(request.config, "the previous release's code comes from git history")
    newest = max((ROOT / "migrations" / "versions").glob("0*.py"))
    added = _git("log", "--first-parent", "--no-renames", "--diff-filter=A", "--format=%H", "-1", "--",
                 newest.relative_to(ROOT).as_posix())
    if not added:
        skip_or_fail(request.config, f"{newest.name} is not committed yet")
    return _git("rev-parse", f"{added}^")


def test_the_previous_release_runs_on_the_new_schema(request, app, city, database_backend,
                                                     tmp_path):
    commit = _previous_release(request)
    old = tmp_path / "previous-release"
    old.mkdir()
    archive = tmp_path / "previous.tar"
    _git("archive", "--format=tar", f"--output={archive}", commit, "webapp", "migrations")
    with tarfile.open(archive) as tar:
        tar.extractall(old, filter="data")

    # The new release writes first (its new columns filled in).
    staff = factories.gen_user("staff")
    client = app.test_client()
    sent = client.post(
        "/api/v1/requests",
        headers={**WRITE, "Idempotency-Key": "9e9c3a1c-0000-4000-8000-00000000000b",
                 "X-Request-ID": "new-release-request"},
        data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
              "contact_email": "new-release@example.com"},
    )
    assert sent.status_code == 201
    new_public_id = sent.get_json()["data"]["id"]
    staff_id = staff.id
    db.session.commit()

    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": str(tmp_path / "old-uploads"),
        "INSTANCE_DIR": str(tmp_path / "old-instance"),
    }
    db.session.remove()
    env = {**os.environ, "PYTHONPATH": str(old)}
    done = subprocess.run(
        [sys.executable, "-c", OLD_APP, json.dumps(settings), new_public_id, str(staff_id)],
        cwd=old, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"].startswith(str(old))  # really the previous release's code
    assert (result["submit"], result["read_own"], result["read_new"], result["list"]) == (
        201, 200, 200, 200,
    )
    assert result["mail_sent"] >= 2  # its confirmation and closure e-mails went out

    # The new release reads what the previous one wrote (new columns simply empty).
    written = db.session.query(ServiceRequest).filter_by(public_id=result["public_id"]).one()
    assert written.detailed_status == "closed"
    old_mail = db.session.query(NotificationOutbox).filter_by(request_id=written.id).all()
    assert old_mail
    if "http_request_id" not in (old / "webapp" / "models.py").read_text():
        # A release before request ids leaves the new column empty.
        assert all(row.http_request_id is None for row in old_mail)
    assert {row.state for row in old_mail} == {"sent"}
    new_mail = db.session.query(NotificationOutbox).filter(
        NotificationOutbox.email_to == "new-release@example.com").one()
    assert new_mail.http_request_id == "new-release-request"
    assert client.get(f"/api/v1/requests/{result['public_id']}").status_code == 200
    assert client.get("/readyz").status_code == 200
