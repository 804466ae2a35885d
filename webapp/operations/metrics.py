"""Prometheus metrics: what a request, a report and the delivery queues are doing.

Two kinds of figure:

- **Counted in the process** (prometheus-client): request latency per endpoint group,
  responses by status class, unhandled errors, reports received per channel. Under
  gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder the workers share) before
  it starts: every worker then writes its counts there, ``/metrics`` sums them, and
  ``gunicorn.conf.py`` clears a dead worker's gauges.
- **Read from the database at scrape time**: outbox depth and the age of the oldest
  waiting message per channel (push, e-mail, forwarding, and any later channel of the
  notification outbox), delivered and failed messages with the reason, and each
  worker's heartbeat. The workers run as separate processes (or machines), so their
  truth is the tables they write, not any one process's memory.

``/metrics`` answers scrapes from this machine (``METRICS_ALLOW``, default loopback);
set ``METRICS_TOKEN`` to let a remote Prometheus in with ``Authorization: Bearer``.
A request that came through a proxy the app does not trust is never "local".
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import case, func, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import object_session

from webapp.models import (
    ForwardedUpdate,
    Forwarding,
    NotificationOutbox,
    ServiceRequest,
    WorkerHeartbeat,
)
from webapp.plumbing.extensions import db

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WAITING_STATES = ("pending", "sending")
FAILED_STATES = ("failed", "dead", "rejected")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
DEFAULT_ALLOW = "127.0.0.1/32,::1/128"
REPORTS_KEY = "civic311_reports_to_count"

disable_created_metrics()

# Counted in each process; summed across gunicorn workers in multiprocess mode.
APP_REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "civic311_http_request_duration_seconds",
    "Time to answer a request, by endpoint group (blueprint).",
    ["group"],
    buckets=LATENCY_BUCKETS,
    registry=APP_REGISTRY,
)
RESPONSES = Counter(
    "civic311_http_responses",
    "Responses sent, by endpoint group and status class (2xx, 4xx, 5xx...).",
    ["group", "status_class"],
    registry=APP_REGISTRY,
)
UNHANDLED_ERRORS = Counter(
    "civic311_unhandled_errors",
    "Exceptions no view handled, by kind (database_unreachable or other).",
    ["group", "kind"],
    registry=APP_REGISTRY,
)
REPORTS_RECEIVED = Counter(
    "civic311_reports_received",
    "Service requests stored by this app, by the channel they came through.",
    ["channel"],
    registry=APP_REGISTRY,
)

# Reasons a message was given up on, from the words the workers keep in last_error.
FAILURE_REASONS = (
    ("gave up after", "gave_up"),
    ("mail server refused the address", "address_refused"),
    ("mail server refused the message", "message_refused"),
    ("push service answered", "subscription_gone"),
    ("subscription no longer exists", "subscription_gone"),
    ("push service refused", "push_refused"),
    ("endpoint is not on an allowed", "endpoint_not_allowed"),
    ("not sent:", "not_sent"),
    ("could not compose", "compose_error"),
)


def failure_reason(last_error: str | None) -> str:
    """A short, bounded label for why a message failed (for a metric's ``reason``)."""
    words = (last_error or "").strip().lower()
    for prefix, reason in FAILURE_REASONS:
        if words.startswith(prefix):
            return reason
    return "refused_by_crm" if words else "unknown"


def endpoint_group() -> str:
    """Which part of the app a request was for: its blueprint, or static/unmatched."""
    if request.url_rule is None:
        return "unmatched"
    if request.endpoint == "static":
        return "static"
    return request.blueprint or "app"


def _queues():
    """Every queued message as (channel, state, created_at, last_error, attempts)."""
    outbox = select(
        NotificationOutbox.channel.label("channel"),
        NotificationOutbox.state.label("state"),
        NotificationOutbox.created_at.label("created_at"),
        NotificationOutbox.last_error.label("last_error"),
    )
    forwards = select(
        literal("forwarding").label("channel"),
        Forwarding.state,
        Forwarding.created_at,
        Forwarding.last_error,
    )
    updates = select(
        literal("forwarding").label("channel"),
        ForwardedUpdate.state,
        ForwardedUpdate.created_at,
        ForwardedUpdate.last_error,
    )
    return union_all(outbox, forwards, updates).subquery()


class DatabaseCollector:
    """Figures read from the tables at scrape time (one grouped query per family)."""

    def __init__(self, now: Callable[[], datetime]):
        self.now = now

    def collect(self):
        """Yield whether the database could be read, then the families read from it.

        While the database is down the scrape still succeeds (the process's own counts,
        5xx included, keep flowing) and ``civic311_database_up`` says 0.
        """
        try:
            families = list(self._families())
            readable = 1.0
        except Exception:  # the database is down: report that instead of failing
            families, readable = [], 0.0
            with contextlib.suppress(Exception):  # the connection is gone; nothing to undo
                db.session.rollback()
        up = GaugeMetricFamily(
            "civic311_database_up", "1 when /metrics could read the database, else 0."
        )
        up.add_metric([], readable)
        yield up
        yield from families

    def _families(self):
        now = self.now()
        queued = _queues()
        waiting = queued.c.state.in_(WAITING_STATES)
        rows = db.session.execute(
            select(
                queued.c.channel,
                func.sum(case((waiting, 1), else_=0)),
                func.min(case((waiting, queued.c.created_at))),
                func.sum(case((queued.c.state == "sent", 1), else_=0)),
                func.sum(
                    case((waiting & queued.c.last_error.is_not(None), 1), else_=0)
                ),
            ).group_by(queued.c.channel)
        ).all()
        depth = GaugeMetricFamily(
            "civic311_outbox_waiting_messages",
            "Messages waiting to be sent (pending or being sent), per channel.",
            labels=["channel"],
        )
        oldest = GaugeMetricFamily(
            "civic311_outbox_oldest_waiting_age_seconds",
            "Age of the oldest message still waiting, per channel (0 when none wait).",
            labels=["channel"],
        )
        delivered = GaugeMetricFamily(
            "civic311_outbox_delivered_messages",
            "Messages delivered, per channel (the delivery log; rate() it).",
            labels=["channel"],
        )
        retrying = GaugeMetricFamily(
            "civic311_outbox_retrying_messages",
            "Waiting messages whose last try failed and will be retried, per channel.",
            labels=["channel"],
        )
        channels = {"push", "email", "forwarding"}
        seen = set()
        for channel, waiting_count, first_created, sent_count, retry_count in rows:
            seen.add(channel)
            depth.add_metric([channel], float(waiting_count or 0))
            age = 0.0
            if first_created is not None:
                created = _aware(first_created)
                age = max(0.0, (now - created).total_seconds())
            oldest.add_metric([channel], age)
            delivered.add_metric([channel], float(sent_count or 0))
            retrying.add_metric([channel], float(retry_count or 0))
        for channel in sorted(channels - seen):
            for family in (depth, oldest, delivered, retrying):
                family.add_metric([channel], 0.0)
        yield from (depth, oldest, delivered, retrying)

        failed = GaugeMetricFamily(
            "civic311_outbox_failed_messages",
            "Messages given up on, per channel and reason (the delivery log; rate() it).",
            labels=["channel", "reason"],
        )
        counts: dict[tuple[str, str], int] = {}
        # Literal bounds: PostgreSQL matches the GROUP BY expression only without parameters.
        head = func.substr(queued.c.last_error, literal_column("1"), literal_column("40"))
        for channel, words, count in db.session.execute(
            select(queued.c.channel, head, func.count())
            .where(or_(*(queued.c.state == state for state in FAILED_STATES)))
            .group_by(queued.c.channel, head)
        ):
            key = (channel, failure_reason(words))
            counts[key] = counts.get(key, 0) + count
        for (channel, reason), count in sorted(counts.items()):
            failed.add_metric([channel, reason], float(count))
        yield failed

        beat = GaugeMetricFamily(
            "civic311_worker_last_heartbeat_timestamp_seconds",
            "When each worker loop last finished a round (Unix time), per worker and host.",
            labels=["worker", "host"],
        )
        silence = GaugeMetricFamily(
            "civic311_worker_heartbeat_age_seconds",
            "Seconds since each worker loop last finished a round.",
            labels=["worker", "host"],
        )
        for heartbeat in db.session.scalars(select(WorkerHeartbeat)):
            at = _aware(heartbeat.beat_at)
            beat.add_metric([heartbeat.worker, heartbeat.host], at.timestamp())
            silence.add_metric(
                [heartbeat.worker, heartbeat.host], max(0.0, (now - at).total_seconds())
            )
        yield beat
        yield silence


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _InProcess:
    """The process's own counters, when not in multiprocess mode."""

    def collect(self):
        yield from APP_REGISTRY.collect()


def exposition(now: Callable[[], datetime] | None = None) -> bytes:
    """The text a scrape gets: the counted figures plus the database's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_InProcess())
    registry.register(DatabaseCollector(now or (lambda: datetime.now(UTC))))
    return generate_latest(registry)


def _networks(setting: str) -> list:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in setting.split(",") if item.strip()]


def scrape_allowed() -> bool:
    """A scrape from an allowed address (never through an untrusted proxy), or with the token."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if not current_app.config.get("TRUSTED_PROXIES") and request.headers.get("X-Forwarded-For"):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    allowed = _networks(current_app.config.get("METRICS_ALLOW") or DEFAULT_ALLOW)
    return any(address in network for network in allowed)


def _start_timer() -> None:
    request.environ["civic311.started"] = time.perf_counter()


def _observe(response):
    group = endpoint_group()
    kind = g.pop("unhandled_error_kind", None)
    if kind:
        UNHANDLED_ERRORS.labels(group, kind).inc()
    started = request.environ.get("civic311.started")
    if started is not None:
        REQUEST_SECONDS.labels(group).observe(time.perf_counter() - started)
    RESPONSES.labels(group, f"{response.status_code // 100}xx").inc()
    return response


def _note_report(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info.setdefault(REPORTS_KEY, []).append(target.channel or "unknown")


def _count_reports(session) -> None:
    for channel in session.info.pop(REPORTS_KEY, []):
        REPORTS_RECEIVED.labels(channel).inc()


def _forget_reports(session) -> None:
    session.info.pop(REPORTS_KEY, None)


def init_app(app: Flask) -> None:
    """Time every request and count reports once their transaction commits."""
    from sqlalchemy import event

    app.before_request(_start_timer)
    app.after_request(_observe)
    if not event.contains(ServiceRequest, "after_insert", _note_report):
        event.listen(ServiceRequest, "after_insert", _note_report)
        event.listen(db.session, "after_commit", _count_reports)
        event.listen(db.session, "after_rollback", _forget_reports)
