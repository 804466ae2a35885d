"""Benchmark: 1,000 closures → every closure e-mail delivered to a local aiosmtpd server.

Every run drains the same 1,000 outbox rows through the same claim / compose / record
loop (``webapp.domain.notifications.outbox`` with ``email.email_channel``, one worker, SQLite); only the sending differs:

- naive: Flask-Mailman's usual ``send`` per message — a new SMTP connection (connect,
  banner, EHLO, …, QUIT) for every message, one at a time;
- one connection: the batch goes over one reused connection;
- shipped: each claimed batch over ``SEND_CONNECTIONS`` parallel connections, each
  reused for its share (what the app does).

The SMTP server is aiosmtpd in a separate process (like a real relay), answering at
once or after a simulated round trip per SMTP command (``--latency-ms``), since a city's
relay is across a network. Composition (templates, links, MIME) is in every figure.

Run: ``.venv/bin/python bench/bench_email.py [--count 1000] [--latency-ms 0 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(port: int, latency_ms: float) -> None:
    """The relay process: aiosmtpd that accepts and discards, after ``latency_ms``."""
    from aiosmtpd.controller import Controller

    delay = latency_ms / 1000

    class SlowSink:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            await asyncio.sleep(delay)
            session.host_name = hostname
            return responses

        async def handle_RCPT(self, server, session, envelope, address, options):
            await asyncio.sleep(delay)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(delay)
            return "250 OK: queued"

    controller = Controller(SlowSink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sys.stdin.read()
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_relay(latency_ms: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--latency-ms", str(latency_ms)],
        stdin=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.recv(100)
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the relay did not start")


def build(count: int, folder: Path, port: int):
    """An app with ``count`` requests sent with an e-mail address, all closed."""
    from flask_migrate import upgrade
    from sqlalchemy import update

    from tests import factories
    from webapp import create_app
    from webapp.domain.lifecycle import workflow as requests_domain
    from webapp.models import NotificationOutbox
    from webapp.plumbing.config import TestingConfig
    from webapp.plumbing.extensions import db

    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.db'}",
        INSTANCE_DIR=str(folder / "instance"),
        UPLOAD_DIR=str(folder / "uploads"),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        PUBLIC_URL="http://civic.test",
    )
    app = create_app(settings)
    with app.app_context():
        upgrade()
        factories.gen_city()
        staff = factories.gen_user("staff")
        db.session.commit()
        requests = [
            factories.gen_request("graffiti", contact_email=f"resident{n}@example.net")
            for n in range(count)
        ]
        db.session.execute(update(NotificationOutbox).values(state="sent"))  # confirmations
        for request in requests:
            requests_domain.transition(
                request, "closed", staff, note="Painted over this morning.", resolution="fixed"
            )
        db.session.commit()
    return app


def reset() -> None:
    """Every closure mail back to due, as if just queued."""
    from sqlalchemy import update

    from webapp.models import NotificationOutbox, utcnow
    from webapp.plumbing.extensions import db

    db.session.execute(
        update(NotificationOutbox)
        .where(NotificationOutbox.kind == "closed")
        .values(
            state="pending",
            attempts=0,
            sent_at=None,
            last_error=None,
            next_attempt_at=utcnow() - timedelta(seconds=1),
        )
    )
    db.session.commit()


def drain(send) -> int:
    """The app's claim / record loop with ``send(rows)`` doing the sending."""
    from sqlalchemy import select

    from webapp.domain.notifications.claims import claim_due
    from webapp.domain.notifications.email import email_channel, mail_queue
    from webapp.models import NotificationOutbox
    from webapp.plumbing.extensions import db

    sent = 0
    while True:
        ids = claim_due(email_channel.CLAIM_BATCH, channel=mail_queue.EMAIL)
        if not ids:
            return sent
        rows = db.session.scalars(
            select(NotificationOutbox)
            .where(NotificationOutbox.id.in_(ids))
            .order_by(NotificationOutbox.id)
        ).all()
        sent += send(list(rows))
        db.session.commit()


def naive_send(rows) -> int:
    """A new connection per message (Flask-Mailman's ``message.send()`` does this)."""
    from webapp.domain.notifications import outbox
    from webapp.domain.notifications.email import email_channel, mail_compose
    from webapp.models import utcnow

    sent = 0
    for row in rows:
        claimed = email_channel.Claimed(row.id, row.claim_token, row.attempts, row.email_to)
        message = mail_compose.compose(row)
        try:
            message.send()
            error = None
        except OSError as failure:
            error = failure
        values = email_channel.outcome_of(claimed, error, utcnow())
        if outbox.record(claimed, values) and values["state"] == outbox.SENT:
            sent += 1
    return sent


def one_connection_send(rows) -> int:
    from webapp.domain.notifications.email import email_channel

    return email_channel.send_batch(rows, connections=1)


def shipped_send(rows) -> int:
    from webapp.domain.notifications.email import email_channel

    return email_channel.send_batch(rows)


def measure(app, count: int) -> dict[str, float]:
    rates = {}
    with app.app_context():
        for name, send in (
            ("naive", naive_send),
            ("one connection", one_connection_send),
            ("shipped", shipped_send),
        ):
            reset()
            started = time.perf_counter()
            sent = drain(send)
            elapsed = time.perf_counter() - started
            if sent != count:
                raise SystemExit(f"{name}: only {sent} of {count} sent")
            rates[name] = count / elapsed
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 5.0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency_ms[0])
        return
    print(f"{args.count} closure e-mails, aiosmtpd in another process, SQLite, one worker")
    print(f"{'relay latency':>14} {'naive msg/s':>12} {'1 conn msg/s':>13} {'shipped msg/s':>14} {'ratio':>7}")
    for latency in args.latency_ms:
        relay, port = start_relay(latency)
        try:
            with tempfile.TemporaryDirectory() as folder:
                app = build(args.count, Path(folder), port)
                rates = measure(app, args.count)
                with app.app_context():
                    from webapp.plumbing.extensions import db

                    db.session.remove()
                    db.engine.dispose()
        finally:
            relay.communicate(input=b"", timeout=10)
        ratio = rates["shipped"] / rates["naive"]
        print(
            f"{latency:>11.0f} ms {rates['naive']:>12.0f} {rates['one connection']:>13.0f} "
            f"{rates['shipped']:>14.0f} {ratio:>6.1f}×"
        )


if __name__ == "__main__":
    main()
