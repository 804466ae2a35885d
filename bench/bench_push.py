"""Benchmark: 1,000 followed requests closed at once → every push delivered.

Both runs drain the same 1,000 outbox rows through the same claim/record loop
(``webapp.domain.notifications.push.push_channel.deliver_due``, one worker, SQLite) to the local fake push service
served in-process; only the sending differs:

- baseline: a fresh ``pywebpush.webpush(...)`` call per message, one at a time — the
  private key parsed, the JWT signed and a new connection opened every time;
- reuse: the VAPID header signed once per push-service origin and reused, one pooled
  keep-alive ``requests.Session``, still one at a time;
- shipped: reuse plus ``SEND_CONCURRENCY`` sends in flight per worker (what the app does).

Each is measured against the fake answering at once and with a simulated round trip
(``--latency-ms``, default 30), since a real push service is across the internet.

Run: ``.venv/bin/python bench/bench_push.py [--count 1000] [--verify] [--latency-ms 30]``. ``--verify``
makes the fake check every VAPID JWT and decrypt every body (slower for both runs,
as the fake shares this process).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from pywebpush import WebPushException, webpush  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from tests import factories  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes.push_service import FakePushService  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.domain.lifecycle import workflow as requests_domain  # noqa: E402
from webapp.domain.notifications import notify  # noqa: E402
from webapp.domain.notifications.push import push_channel, push_sender, vapid  # noqa: E402
from webapp.domain.people import devices  # noqa: E402
from webapp.models import Follow, NotificationOutbox, utcnow  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402


class NaivePusher(push_sender.Pusher):
    """The baseline: one self-contained ``pywebpush.webpush`` call per message."""

    def __init__(self, private_pem: str, subject: str):
        """Keep only the key text and subject; everything else is redone per call."""
        self.private_der = "".join(private_pem.strip().splitlines()[1:-1])
        self.subject = subject

    def send(self, message):
        """Parse the key, sign fresh claims and open a new connection, every message."""
        try:
            return webpush(
                {
                    "endpoint": message.endpoint,
                    "keys": {"p256dh": message.p256dh, "auth": message.auth},
                },
                data=json.dumps(message.payload, separators=(",", ":")),
                vapid_private_key=self.private_der,
                vapid_claims={"sub": self.subject},
                ttl=message.ttl_seconds,
                headers={"Urgency": message.urgency, "Topic": message.topic},
            )
        except WebPushException as error:
            return error.response


def build(count: int, fake: FakePushService, folder: Path):
    """An app with ``count`` requests, each followed by a subscribed device, all closed."""
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.db'}",
        INSTANCE_DIR=str(folder / "instance"),
        UPLOAD_DIR=str(folder / "uploads"),
    )
    app = create_app(settings)
    with app.app_context():
        upgrade()
        factories.gen_city()
        staff = factories.gen_user("staff")
        requests = [factories.gen_request("graffiti") for _ in range(count)]
        for service_request in requests:
            _, device = devices.create()
            keys = fake.subscription()
            db.session.add(Follow(request_id=service_request.id, device_id=device.id))
            notify.subscribe(
                keys.endpoint, keys.p256dh, keys.auth, user=None, device=device
            )
        db.session.commit()
        for service_request in requests:
            requests_domain.transition(
                service_request, "closed", staff, note="Fixed this morning.", resolution="fixed"
            )
        db.session.commit()
        queued = db.session.scalar(select(func.count(NotificationOutbox.id)))
        assert queued == count, queued
    return app


def requeue() -> None:
    """Put every row back to pending so the next run sends the same messages."""
    db.session.execute(
        update(NotificationOutbox).values(
            state="pending", attempts=0, next_attempt_at=utcnow(), sent_at=None, last_error=None
        )
    )
    db.session.commit()


def run(app, fake: FakePushService, sender, count: int, concurrency: int) -> float:
    """Deliver every row with ``sender``; returns notifications per second."""
    with app.app_context():
        requeue()
        app.extensions["civic311_pusher"] = sender
        before = len(fake.deliveries)
        started = time.perf_counter()
        sent = push_channel.deliver_due(limit=100, concurrency=concurrency)
        elapsed = time.perf_counter() - started
        delivered = len(fake.deliveries) - before
        assert sent == count and delivered == count, (sent, delivered, fake.rejected[:3])
        db.session.remove()
    return count / elapsed


def main() -> None:
    """Measure the variants in the same run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=30.0,
                        help="simulated push-service round trip for the second scenario")
    args = parser.parse_args()
    fake = FakePushService(verify=args.verify)
    running = serve(fake)
    fake.base_url = running.url
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = build(args.count, fake, Path(folder))
            with app.app_context():
                optimised = push_sender.pusher()
                pem = (Path(folder) / "instance" / vapid.KEY_FILE).read_text()
                naive = NaivePusher(pem, app.config["VAPID_SUBJECT"])
            run(app, fake, optimised, args.count, 1)  # warm-up: imports, first signing, caches
            for latency_ms in (0.0, args.latency_ms):
                fake.latency_seconds = latency_ms / 1000
                baseline = run(app, fake, naive, args.count, 1)
                reuse = run(app, fake, optimised, args.count, 1)
                shipped = run(app, fake, optimised, args.count, push_sender.SEND_CONCURRENCY)
                rows.append((latency_ms, baseline, reuse, shipped))
    finally:
        running.stop()
    mode = "verified+decrypted" if args.verify else "counted"
    print(f"Push delivery, {args.count} closed requests, 1 worker, local fake service ({mode})")
    print(f"{'push-service latency':<22}{'baseline/s':>12}{'reuse/s':>10}{'shipped/s':>11}"
          f"{'ratio':>8}")
    for latency_ms, baseline, reuse, shipped in rows:
        print(f"{f'{latency_ms:.0f} ms':<22}{baseline:>12.1f}{reuse:>10.1f}{shipped:>11.1f}"
              f"{shipped / baseline:>7.1f}x")
    print("baseline: a fresh pywebpush.webpush() per message, one at a time (no reuse)")
    print("reuse:    VAPID header cached per origin + pooled keep-alive session, one at a time")
    print(f"shipped:  reuse + {push_sender.SEND_CONCURRENCY} sends in flight per worker "
          "(what deliver_due does)")


if __name__ == "__main__":
    main()
