"""The one job runner: background jobs that run after commit, inside the app process by
default, or as worker commands in production.

Job kinds register with it (``register("push", deliver_due, every=5)``); the kinds are
listed in ``webapp.jobs``. With ``BACKGROUND_WORKER=thread`` (the embedded default) one
daemon thread runs each job every ``every`` seconds, and ``kick(name)`` wakes it at once
after a commit that left work for it (``wake_after_commit``). In production set
``BACKGROUND_WORKER=off`` and run the kinds' own worker commands instead (e.g.
``flask --app webapp notify-worker``), each a loop of ``run_until_stopped``. Tests leave
it off and call the jobs directly.

A delivery job has one shape, message by message: **claim** due rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers never take the same row), **send** each, and
**record** each outcome on its row (sent; retried later with backoff; failed with the
reason), committing each as its answer arrives, never at the end of a batch. A claim is
a one-minute lease (``notifications.claims``) that the worker's ``LeaseKeeper``
heartbeat renews while the process lives, so a killed worker's unanswered messages are
taken over about a minute later and sent once more with the same push ``Topic`` /
e-mail ``Message-ID``. That loop is written once, in ``notifications.outbox``; push
(``push.push_channel``) and e-mail (``email.email_channel``) are its two channels;
``open311.forwarding.sending.run_once`` claims each forwarding with its own one-minute lease
(an attempt is bounded by the CRM timeout; its Idempotency-Key covers a resend).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask import Flask, current_app, has_app_context
from sqlalchemy import event

from webapp.domain.notifications import claims
from webapp.models import utcnow

Job = Callable[[], int]
Clock = Callable[[], datetime]


class LeaseKeeper:
    """A worker's heartbeat: every ``every`` seconds, on a thread of its own and its own
    database connection, extend the lease of every outbox message this process holds
    (``claims.renew_statement``), so a long send never loses its claim to another worker
    while this one is alive, and a dead one's claims run out within ``claims.LEASE``.

    ``clock`` is the time source (tests call ``beat`` with an injected one and never
    start the thread).
    """

    def __init__(self, app: Flask, clock: Clock | None = None, every: float | None = None):
        self.app = app
        self.clock = clock or utcnow
        self.every = every or claims.HEARTBEAT_SECONDS
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def beat(self) -> int:
        """Renew now; returns how many messages are held. Never raises (a database blip
        is logged; the next beat tries again well before the lease runs out)."""
        from webapp.plumbing.extensions import db

        with self.app.app_context():
            try:
                with db.engine.begin() as connection:
                    statement = claims.renew_statement(claims.worker_token(), self.clock())
                    return connection.execute(statement).rowcount or 0
            except Exception:
                self.app.logger.warning("could not renew the outbox lease", exc_info=True)
                return 0

    def start(self) -> LeaseKeeper:
        """Beat every ``every`` seconds on a daemon thread until ``stop``."""
        if self.thread is None:
            self.thread = threading.Thread(
                target=self._run, name="civic311-lease-keeper", daemon=True
            )
            self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.beat()

    def stop(self) -> None:
        """Stop beating (the claims then run out within a lease)."""
        self.stopped.set()


@dataclass
class _Registered:
    name: str
    run: Job
    every: float
    next_run: float = 0.0


@dataclass
class _Runner:
    app: Flask
    jobs: dict[str, _Registered] = field(default_factory=dict)
    wake: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    keeper: LeaseKeeper | None = None

    def loop(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for job in list(self.jobs.values()):
                if job.next_run <= now:
                    self._run(job)
                    job.next_run = time.monotonic() + job.every
            soonest = min((j.next_run for j in self.jobs.values()), default=now + 5)
            self.wake.wait(timeout=max(0.05, soonest - time.monotonic()))
            self.wake.clear()

    def _run(self, job: _Registered) -> None:
        with self.app.app_context():
            started, done, failed = time.monotonic(), 0, False
            try:
                done = job.run() or 0
            except Exception:  # a failing job must not kill the thread
                failed = True
                self.app.logger.exception("background job %s failed", job.name)
            finally:
                from webapp.plumbing.extensions import db

                db.session.remove()
            after_round(job.name, done, time.monotonic() - started, failed)


_JOBS: dict[str, tuple[Job, float]] = {}


def after_round(name: str, done: int, seconds: float, failed: bool) -> None:
    """Log the round as one line and stamp the worker's heartbeat (never raises)."""
    from webapp.plumbing import heartbeats
    from webapp.plumbing.extensions import db
    from webapp.plumbing.request_log import log_job

    log_job(name, int(done or 0), seconds, failed)
    try:
        heartbeats.beat(name)
    except Exception:  # the database is down: the next round stamps again
        db.session.rollback()
        current_app.logger.warning("heartbeat of %s not recorded", name)
    finally:
        db.session.remove()


def register(name: str, job: Job, every: float) -> None:
    """Declare a job; it runs in every app's worker thread when that thread is on."""
    _JOBS[name] = (job, every)


def kick(app: Flask, name: str | None = None) -> None:
    """Ask the worker thread to run (all due jobs, or ``name``) now rather than later."""
    runner: _Runner | None = app.extensions.get("civic311_worker")
    if runner is None:
        return
    if name and name in runner.jobs:
        runner.jobs[name].next_run = 0.0
    runner.wake.set()


def wake_after_commit(name: str, leaves_work: Callable[[object], bool]) -> None:
    """Kick job ``name`` after any commit whose transaction added an object for which
    ``leaves_work(obj)`` is true (e.g. a push outbox row, a request to geocode).

    A flag is set on the session when such an object is flushed, read after commit and
    dropped on rollback, so a change that rolled back wakes nothing.
    """
    from webapp.plumbing.extensions import db

    flag = f"civic311_wake_{name}"

    def note(session, flush_context) -> None:
        if any(leaves_work(item) for item in session.new):
            session.info[flag] = True

    def kick_if_noted(session) -> None:
        if session.info.pop(flag, False) and has_app_context():
            kick(current_app._get_current_object(), name)

    def forget(session) -> None:
        session.info.pop(flag, None)

    for event_name, listener in (
        ("after_flush", note),
        ("after_commit", kick_if_noted),
        ("after_rollback", forget),
    ):
        event.listen(db.session, event_name, listener)


def shutdown(app: Flask) -> None:
    """Stop the worker thread (used by tests and at exit)."""
    runner: _Runner | None = app.extensions.get("civic311_worker")
    if runner and runner.keeper:
        runner.keeper.stop()
    if runner and runner.thread:
        runner.stop.set()
        runner.wake.set()
        runner.thread.join(timeout=5)


def init_app(app: Flask) -> None:
    """With ``BACKGROUND_WORKER=thread``, start the worker thread at the first request.

    Starting on the first request (not in ``create_app``) keeps CLI commands such as
    ``flask db upgrade`` from running jobs against a database that is being migrated.
    """
    if app.config.get("BACKGROUND_WORKER", "thread") != "thread":
        return
    runner = _Runner(app)
    for name, (job, every) in _JOBS.items():
        runner.jobs[name] = _Registered(name, job, every)
    app.extensions["civic311_worker"] = runner
    start_lock = threading.Lock()

    def start_once() -> None:
        if runner.thread is not None:
            return
        with start_lock:
            if runner.thread is None:
                runner.thread = threading.Thread(
                    target=runner.loop, name="civic311-worker", daemon=True
                )
                runner.thread.start()
                runner.keeper = LeaseKeeper(app).start()

    app.before_request(start_once)


def run_until_stopped(
    name: str, step: Job, *, once: bool, interval: float, report: str = "{} done"
) -> None:
    """The loop of a standalone worker command: run ``step``, report, wait, repeat.

    ``report`` words the line printed after a round that did something (``{}`` is the
    number ``step`` returned).

    Used by ``notify-worker`` and ``forward-worker``, which production runs as separate
    processes. A database blip is logged and retried on the next round rather than
    ending the process; SIGTERM and Ctrl+C finish the round and exit cleanly.
    """
    from webapp.plumbing.extensions import db

    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    keeper = LeaseKeeper(current_app._get_current_object()).start()
    try:
        while not stop.is_set():
            started, failed = time.monotonic(), False
            try:
                done = step()
            except Exception:  # a database blip must not end the worker
                db.session.rollback()
                current_app.logger.exception("%s failed; retrying", name)
                done, failed = 0, True
            finally:
                db.session.remove()
            after_round(name, done, time.monotonic() - started, failed)
            if done:
                click.echo(f"{name}: " + report.format(done))
            if once:
                break
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        keeper.stop()
