"""VAPID keys, the signed-header cache, Retry-After parsing, the CLI commands and the
after-commit nudge to the embedded worker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from py_vapid import Vapid

from tests import factories
from tests.fakes.push_service import FakePushService, verify_vapid
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications import notify, outbox
from webapp.domain.notifications.push import push_channel, push_sender, vapid
from webapp.domain.people import devices
from webapp.jobs import runner as workers
from webapp.models import utcnow
from webapp.plumbing.extensions import db


def test_vapid_key_is_generated_once_into_the_instance_folder(make_app, tmp_path):
    first = make_app(INSTANCE_DIR=str(tmp_path / "keys"))
    second = make_app(INSTANCE_DIR=str(tmp_path / "keys"))
    assert push_sender.public_key(first) == push_sender.public_key(second)
    assert (tmp_path / "keys" / vapid.KEY_FILE).read_text().startswith("-----BEGIN PRIVATE KEY")


def test_configured_vapid_key_is_used_and_checked_against_the_public_key(make_app):
    signer = Vapid()
    signer.generate_keys()
    pem = signer.private_pem().decode()
    app = make_app(VAPID_PRIVATE_KEY=pem)
    public = push_sender.public_key(app)
    assert push_sender.public_key(make_app(VAPID_PRIVATE_KEY=pem, VAPID_PUBLIC_KEY=public)) == public
    with pytest.raises(RuntimeError, match="does not match"):
        push_sender.public_key(make_app(VAPID_PRIVATE_KEY=pem, VAPID_PUBLIC_KEY=vapid.b64url(b"x" * 65)))


def test_push_keys_command_prints_the_public_key(app):
    result = app.test_cli_runner().invoke(args=["push", "keys"])
    assert result.exit_code == 0
    assert result.output.strip() == push_sender.public_key()


def test_signed_header_is_reused_per_origin_and_valid(app):
    sender = push_sender.pusher()
    first = sender.authorization("https://push.example.net/abc")
    assert sender.authorization("https://push.example.net/other") == first
    other = sender.authorization("https://updates.push.example.org/x")
    assert other != first
    claims, key = verify_vapid(first, "https://push.example.net")
    assert key == sender.public_key and claims["sub"] == "mailto:test@civic311.example"
    sender.forget("https://push.example.net/abc")
    assert "https://push.example.net" not in sender._headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("Wed, 01 Jan 2031 00:02:00 GMT", 120.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, expected):
    now = datetime(2031, 1, 1, tzinfo=UTC)
    assert push_channel.retry_after_seconds(header, now) == expected


def test_backoff_grows_and_is_capped():
    assert 20 < outbox.backoff_seconds(1) < 40
    assert outbox.backoff_seconds(4) > outbox.backoff_seconds(1) * 4
    assert outbox.backoff_seconds(50) <= outbox.BACKOFF_MAX_SECONDS * 1.2


def test_commit_that_queued_messages_wakes_the_worker_and_rollback_does_not(app, city, monkeypatch):
    kicks = []
    monkeypatch.setattr(workers, "kick", lambda application, name=None: kicks.append(name))
    staff = factories.gen_user("staff")
    _, device = devices.create()
    service_request = factories.gen_request("graffiti", device=device)
    keys = FakePushService(base_url="https://fcm.googleapis.com").subscription()
    notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    db.session.commit()
    kicks.clear()

    requests_domain.transition(service_request, "closed", staff, note="Done", resolution="fixed")
    db.session.rollback()
    db.session.commit()
    assert kicks == []

    requests_domain.transition(service_request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    assert kicks == ["push"]


def test_notify_worker_once_delivers_due_messages(app, monkeypatch):
    calls = []
    monkeypatch.setattr(push_channel, "deliver_due", lambda: calls.append(1) or 3)
    result = app.test_cli_runner().invoke(args=["notify-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert calls == [1] and "sent 3" in result.output


def test_the_embedded_worker_runs_push_delivery():
    job, every = workers._JOBS["push"]
    assert job is push_channel.deliver_due and every == 5


def test_closing_payload_is_well_under_4kb(app, city):
    staff = factories.gen_user("staff")
    service_request = factories.gen_request("graffiti")
    before = utcnow()
    event = requests_domain.transition(
        service_request, "closed", staff, note="x" * 4000, resolution="fixed"
    )
    payload = notify._payload_in(None, event, "closed", "/requests/x")
    assert len(str(payload).encode()) < 1024
    assert payload["notification"]["body"].endswith("…")
    assert before <= event.created_at <= utcnow()
