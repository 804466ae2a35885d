"""The notification worker killed mid-send: N closures with push and e-mail, the worker
SIGKILLed three times, restarted, then the counts — messages, delivered, duplicates per
channel, lost, and how many were in flight at each kill.

Run: ``make chaos`` or ``.venv/bin/python tools/chaos_notifications.py [--closures 500]``;
on a private PostgreSQL restarted mid-run: ``make chaos-postgres``
(not part of ``make test``: it runs for a few minutes of wall-clock time).

What it sets up: a real SMTP server (aiosmtpd, ``tests/fakes/smtp.py``) and the fake
push service (``tests/fakes/push_service.py``, which checks VAPID and decrypts every
push) in this process, each answering with a little latency like a real one; a
throwaway SQLite database (or ``--database-url``, emptied first) with N requests, each
followed by its own subscribed browser and carrying a contact address, all closed: N
pushes and N closure e-mails in the outbox. Then ``flask notify-worker`` runs as a
separate process and is SIGKILLed when 25 %, 55 % and 80 % of the messages have
arrived, restarted at once each time.

In flight at a kill = the rows still ``sending`` once the worker is dead (claimed, no
outcome recorded): only these can be sent twice. A duplicate is a second arrival of the
same push (same subscription) or of the same e-mail (same Message-ID); lost = a message
that never arrived. Scenario two does the same with the SMTP server down for
``--smtp-down`` seconds from the start.

On PostgreSQL (``--database postgres``) the run gets a cluster of its own
(``tools/private_postgres.py``: ``initdb`` in a temporary folder, a free port), never a
shared server, and ``--restart-database`` stops it (``pg_ctl stop -m fast``: every
connection cut) when 40 % of the messages have arrived (``--restart-at``), keeps it down for
``--database-down`` seconds, and starts it again, while the worker keeps running. The
rows still ``sending`` just before the stop count as in flight at the restart (the worker
cannot record an answer while the database is down, so only these can go out twice).
While it is down the script asks the app, in this process, for ``/readyz`` (503 expected)
and the request list API (a JSON error expected), and again once it is back (200).

Exits non-zero unless, in every scenario, 0 are lost, everything arrived, and the
duplicates of each channel are at most the messages of that channel in flight at the
kills and the database restart.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import serve  # noqa: E402  (the repository's own fakes)
from tests.fakes.push_service import FakePushService  # noqa: E402
from tests.fakes.smtp import FakeRelay, SMTPServer  # noqa: E402

KILL_AT = (0.25, 0.55, 0.80)
RESTART_DATABASE_AT = 0.40
SMTP_LATENCY_SECONDS = 0.02
PUSH_LATENCY_SECONDS = 0.02
SECRET = secrets.token_urlsafe(48)  # a strong one, new for every run


class SlowRelay(FakeRelay):
    """The fake relay answering each message after a short pause, like a real one."""

    async def handle_DATA(self, server, session, envelope):
        """Pause, then keep the message."""
        await asyncio.sleep(SMTP_LATENCY_SECONDS)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Kill:
    """One SIGKILL (or database restart): when, and the rows then claimed but
    unrecorded, per channel."""

    arrived: int
    in_flight: dict[str, int]
    what: str = "worker SIGKILL"


@dataclass
class Result:
    """A scenario's counts."""

    name: str
    messages: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    kills: list[Kill] = field(default_factory=list)
    seconds_after_last_restart: float | None = None
    seconds_after_database_back: float | None = None
    app_during_outage: list[str] = field(default_factory=list)
    app_ok: bool = True

    def ok(self) -> bool:
        """0 lost, and duplicates within what was in flight, per channel."""
        for channel in self.messages:
            in_flight = sum(kill.in_flight.get(channel, 0) for kill in self.kills)
            if self.lost[channel] or self.duplicates[channel] > in_flight:
                return False
        return self.seconds_after_last_restart is not None and self.app_ok

    def print(self) -> None:
        """The counts, one line per channel."""
        print(f"\n== {self.name}")
        for channel in self.messages:
            kills = [k.in_flight.get(channel, 0) for k in self.kills if k.what != "database"]
            restarts = [k.in_flight.get(channel, 0) for k in self.kills if k.what == "database"]
            print(
                f"{channel:>5}: messages {self.messages[channel]}, "
                f"delivered {self.delivered[channel]}, duplicates {self.duplicates[channel]}, "
                f"lost {self.lost[channel]}, in flight at each kill {kills}"
                + (f", at the database restart {restarts}" if restarts else "")
            )
        late = self.seconds_after_last_restart
        print(
            "everything delivered "
            + (f"{late:.0f} s after the last worker restart" if late is not None else "NOT in time")
            + (f", {self.seconds_after_database_back:.0f} s after the database came back"
               if self.seconds_after_database_back is not None and late is not None else "")
        )
        for line in self.app_during_outage:
            print(f"app: {line}")
        print("OK" if self.ok() else "FAILED")


def environment(database_url: str, work: Path, smtp: SMTPServer) -> dict[str, str]:
    """The settings the app (here and in the worker process) runs with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(work / "instance"),
        "UPLOAD_DIR": str(work / "uploads"),
        "SECRET_KEY": SECRET,
        "BACKGROUND_WORKER": "off",
        "PUBLIC_URL": "http://civic.test",
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": str(smtp.port),
        "MAIL_USE_TLS": "false",
        "MAIL_DEFAULT_SENDER": "Civic311 <311@civic.test>",
        "PUSH_SERVICES": "http://127.0.0.1",
    }


def make_app(env: dict[str, str]):
    """The app in this process, on the scenario's database."""
    from webapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "INSTANCE_DIR": env["INSTANCE_DIR"],
            "UPLOAD_DIR": env["UPLOAD_DIR"],
            "SECRET_KEY": SECRET,
            "BACKGROUND_WORKER": "off",
            "PUBLIC_URL": env["PUBLIC_URL"],
            "MAIL_SERVER": env["MAIL_SERVER"],
            "MAIL_PORT": int(env["MAIL_PORT"]),
            "MAIL_USE_TLS": False,
            "MAIL_DEFAULT_SENDER": env["MAIL_DEFAULT_SENDER"],
            "PUSH_SERVICES": ["http://127.0.0.1"],
        }
    )


def fill(app, push: FakePushService, closures: int) -> None:
    """A city, ``closures`` followed requests with a contact address, all closed: one push
    and one closure e-mail each in the outbox (the confirmations are cleared first)."""
    from flask_migrate import upgrade
    from sqlalchemy import delete, text

    from tests import factories
    from webapp.domain.lifecycle import workflow
    from webapp.domain.notifications import notify
    from webapp.domain.people import devices
    from webapp.models import NotificationOutbox
    from webapp.plumbing.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        factories.gen_city()
        staff = factories.gen_user("staff")
        requests = []
        for n in range(closures):
            _, device = devices.create()
            request = factories.gen_request(
                "graffiti", device=device, contact_email=f"resident{n}@example.net"
            )
            keys = push.subscription()
            notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
            requests.append(request)
        db.session.commit()
        db.session.execute(delete(NotificationOutbox))
        db.session.commit()
        for request in requests:
            workflow.transition(
                request, "closed", staff, note="Cleaned off this morning.", resolution="fixed"
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def outbox(app) -> list[tuple[str, str, str | None, str | None]]:
    """Every outbox row: (channel, state, Message-ID, push endpoint)."""
    from sqlalchemy import select

    from webapp.models import NotificationOutbox, PushSubscription
    from webapp.plumbing.extensions import db

    with app.app_context():
        rows = db.session.execute(
            select(
                NotificationOutbox.channel,
                NotificationOutbox.state,
                NotificationOutbox.message_id,
                PushSubscription.endpoint,
            ).outerjoin(
                PushSubscription, PushSubscription.id == NotificationOutbox.subscription_id
            )
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


class Worker:
    """``flask notify-worker`` in its own process."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self) -> None:
        """Start it (again)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
                [sys.executable, "-m", "flask", "--app", "webapp", "notify-worker",
                 "--interval", "1"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last commit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM at the end."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def ask_app(app, label: str, expect_ready: bool) -> tuple[str, bool]:
    """The app in this process, asked for ``/readyz`` and the request list: with the
    database down, 503 and a JSON error (never a bare 500 page); back up, 200."""
    client = app.test_client()
    ready = client.get("/readyz")
    listing = client.get("/api/v1/requests?page_size=1", headers={"Accept": "application/json"})
    json_shape = listing.is_json and isinstance(listing.get_json(), dict)
    if expect_ready:
        fine = ready.status_code == 200 and listing.status_code == 200
    else:
        fine = ready.status_code == 503 and listing.status_code >= 500 and json_shape
    failing = ready.get_json().get("failing") if ready.is_json else None
    line = (f"{label}: /readyz {ready.status_code} (failing {failing}), request list "
            f"{listing.status_code} {listing.content_type} — {'as expected' if fine else 'WRONG'}")
    return line, fine


def database_restart(app, cluster, down_seconds: float, result: Result, arrived: int,
                     name: str) -> float:
    """Stop the private cluster (connections cut), ask the app while it is down, start
    it again; returns the monotonic time it was back."""
    in_flight = Counter(channel for channel, state, _m, _e in outbox(app) if state == "sending")
    result.kills.append(Kill(arrived, dict(in_flight), what="database"))
    print(f"[{name}] database stopped at {arrived} arrived; in flight {dict(in_flight)}",
          flush=True)
    cluster.stop()
    down_until = time.monotonic() + down_seconds
    line, fine = ask_app(app, "database down", expect_ready=False)
    result.app_during_outage.append(line)
    result.app_ok &= fine
    time.sleep(max(0.0, down_until - time.monotonic()))
    cluster.start()
    back = time.monotonic()
    print(f"[{name}] database started again after {down_seconds:.0f} s", flush=True)
    line, fine = ask_app(app, "database back", expect_ready=True)
    result.app_during_outage.append(line)
    result.app_ok &= fine
    return back


def run(name: str, closures: int, database_url: str | None, smtp_down: float,
        deadline_seconds: float, cluster=None, database_down: float = 0,
        restart_at: float = RESTART_DATABASE_AT) -> Result:
    """One scenario, from an empty database to the counts. With ``cluster`` (a
    ``PrivateCluster``) and ``database_down`` > 0 the database is restarted mid-run."""
    work = Path(tempfile.mkdtemp(prefix="chaos-notifications-"))
    smtp = SMTPServer()
    smtp.relay = SlowRelay()
    smtp.inbox.relay = smtp.relay
    push = FakePushService(latency_seconds=PUSH_LATENCY_SECONDS)
    push_server = serve(push)
    push.base_url = push_server.url
    env = environment(database_url or f"sqlite:///{work / 'civic311.db'}", work, smtp)
    app = make_app(env)
    print(f"[{name}] filling {closures} closures in {env['DATABASE_URL']} …", flush=True)
    fill(app, push, closures)
    total = 2 * closures
    result = Result(name, messages={"push": closures, "email": closures})

    def arrived() -> int:
        return len(push.deliveries) + len(smtp.relay.received)

    worker = Worker(env, work / "worker.log")
    started = time.monotonic()
    smtp_up_at = started + smtp_down
    if smtp_down <= 0:
        smtp.start()
    worker.start()
    last_restart = time.monotonic()
    database_back: float | None = None
    restart_pending = cluster is not None and database_down > 0
    try:
        for share in KILL_AT:
            while arrived() < share * total:
                if restart_pending and arrived() >= restart_at * total:
                    restart_pending = False
                    database_back = database_restart(
                        app, cluster, database_down, result, arrived(), name
                    )
                if smtp.controller is None and time.monotonic() >= smtp_up_at:
                    smtp.start()
                    print(f"[{name}] SMTP server back up", flush=True)
                if time.monotonic() - started > deadline_seconds:
                    raise TimeoutError("no progress")
                time.sleep(0.01)
            worker.kill()
            in_flight = Counter(
                channel for channel, state, _mid, _end in outbox(app) if state == "sending"
            )
            result.kills.append(Kill(arrived(), dict(in_flight)))
            print(f"[{name}] SIGKILL at {arrived()}/{total} arrived; in flight "
                  f"{dict(in_flight)}", flush=True)
            worker.start()
            last_restart = time.monotonic()
        while time.monotonic() - started < deadline_seconds:
            if smtp.controller is None and time.monotonic() >= smtp_up_at:
                smtp.start()
                print(f"[{name}] SMTP server back up", flush=True)
            if restart_pending and arrived() >= restart_at * total:
                restart_pending = False
                database_back = database_restart(app, cluster, database_down, result,
                                                 arrived(), name)
            rows = outbox(app)
            if all(state in ("sent", "dead", "failed") for _c, state, _m, _e in rows):
                result.seconds_after_last_restart = time.monotonic() - last_restart
                if database_back is not None:
                    result.seconds_after_database_back = time.monotonic() - database_back
                break
            time.sleep(1)
        time.sleep(1)  # a send answered just before the last check
    finally:
        worker.stop()
        smtp.stop()
        push_server.stop()

    rows = outbox(app)
    pushed = Counter(delivery.endpoint for delivery in push.deliveries)
    mailed = Counter(item.message["Message-ID"].strip() for item in list(smtp.relay.received))
    push_rows = [endpoint for channel, _s, _m, endpoint in rows if channel == "push"]
    mail_rows = [message_id for channel, _s, message_id, _e in rows if channel == "email"]
    result.delivered = {
        "push": sum(1 for endpoint in push_rows if pushed[endpoint]),
        "email": sum(1 for message_id in mail_rows if mailed[message_id]),
    }
    result.duplicates = {
        "push": sum(pushed.values()) - len(pushed),
        "email": sum(mailed.values()) - len(mailed),
    }
    result.lost = {
        channel: result.messages[channel] - result.delivered[channel] for channel in result.messages
    }
    states = Counter((channel, state) for channel, state, _m, _e in rows)
    print(f"[{name}] final states {dict(states)}; worker log {work / 'worker.log'}", flush=True)
    return result


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's access log
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closures", type=int, default=500)
    parser.add_argument("--smtp-down", type=float, default=60, help="seconds, scenario two")
    parser.add_argument("--deadline", type=float, default=600, help="seconds per scenario")
    parser.add_argument("--database-url", help="a throwaway database (emptied!); SQLite if unset")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a private cluster started for the run (initdb, free port)")
    parser.add_argument("--restart-database", action="store_true",
                        help="stop and start the private PostgreSQL mid-run (--database postgres)")
    parser.add_argument("--database-down", type=float, default=15,
                        help="seconds the database stays down with --restart-database")
    parser.add_argument("--restart-at", type=float, default=RESTART_DATABASE_AT,
                        help="share of the messages arrived when the database is stopped")
    parser.add_argument("--only", choices=("kills", "smtp-down"))
    args = parser.parse_args()
    if args.restart_database and args.database != "postgres":
        parser.error("--restart-database needs --database postgres (a private cluster)")
    cluster = None
    if args.database == "postgres":
        sys.path.insert(0, str(ROOT / "tools"))
        from private_postgres import PrivateCluster

        cluster = PrivateCluster().start()
        args.database_url = cluster.url("civic311_chaos")
    down = args.database_down if args.restart_database else 0
    restarted = f", database restarted ({down:.0f} s down)" if down else ""
    results = []
    try:
        if args.only in (None, "kills"):
            results.append(run(f"worker killed 3 times{restarted}", args.closures,
                               args.database_url, 0, args.deadline, cluster, down,
                               args.restart_at))
        if args.only in (None, "smtp-down"):
            results.append(run(f"worker killed 3 times{restarted}, SMTP down "
                               f"{args.smtp_down:.0f} s", args.closures, args.database_url,
                               args.smtp_down, args.deadline, cluster, down, args.restart_at))
    finally:
        if cluster is not None:
            cluster.remove()
    for result in results:
        result.print()
    return 0 if all(result.ok() for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
