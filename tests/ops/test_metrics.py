"""/metrics: Prometheus's text format, read back with the client library's own parser;
the sample alert rules load and name real metrics. (A real Prometheus scraping gunicorn:
``test_gunicorn_metrics.py``.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from webapp.jobs import runner as workers
from webapp.models import Forwarding, ForwardTarget, NotificationOutbox, WorkerHeartbeat
from webapp.operations import metrics
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus-alerts.yml"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}, parsed by prometheus-client."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _outbox(channel, state, age_seconds, last_error=None, **extra):
    row = NotificationOutbox(
        channel=channel,
        state=state,
        payload={},
        created_at=NOW - timedelta(seconds=age_seconds),
        next_attempt_at=NOW,
        last_error=last_error,
        email_to="someone@example.com" if channel == "email" else None,
        **extra,
    )
    db.session.add(row)
    return row


def test_outbox_depth_oldest_age_deliveries_and_failures_per_channel(app, city):
    _outbox("push", "pending", 700)
    _outbox("push", "sending", 30)
    _outbox("push", "sent", 9000)
    _outbox("push", "dead", 9000, "push service answered 410: subscription gone")
    _outbox("email", "pending", 120, "mail server answered 421: try later", attempts=2)
    _outbox("email", "failed", 9000, "mail server refused the address: 550 no such user")
    _outbox("email", "failed", 9000, "mail server refused the address: 550 unknown")
    _outbox("email", "sent", 9000)
    target = ForwardTarget(name="CRM", endpoint="http://127.0.0.1:9/open311", active=True)
    db.session.add(target)
    request = factories.gen_request()
    db.session.add(
        Forwarding(
            request=request, target=target, idempotency_key="k-1",
            created_at=NOW - timedelta(seconds=1800),
        )
    )
    db.session.add(WorkerHeartbeat(worker="notify-worker", host="app1", pid=1,
                                   beat_at=NOW - timedelta(seconds=42), rounds=3))
    db.session.commit()

    found = samples(metrics.exposition(now=lambda: NOW).decode())

    def value(name, **labels):
        return found[(name, tuple(sorted(labels.items())))]

    assert value("civic311_outbox_waiting_messages", channel="push") == 2
    assert value("civic311_outbox_waiting_messages", channel="email") == 1
    assert value("civic311_outbox_waiting_messages", channel="forwarding") == 1
    assert value("civic311_outbox_oldest_waiting_age_seconds", channel="push") == 700
    assert value("civic311_outbox_oldest_waiting_age_seconds", channel="email") == 120
    assert value("civic311_outbox_oldest_waiting_age_seconds", channel="forwarding") == 1800
    assert value("civic311_outbox_retrying_messages", channel="email") == 1
    assert value("civic311_outbox_delivered_messages", channel="push") == 1
    assert value("civic311_outbox_delivered_messages", channel="email") == 1
    assert value("civic311_outbox_failed_messages", channel="email",
                 reason="address_refused") == 2
    assert value("civic311_outbox_failed_messages", channel="push",
                 reason="subscription_gone") == 1
    assert value("civic311_worker_heartbeat_age_seconds", worker="notify-worker",
                 host="app1") == 42
    assert value("civic311_worker_last_heartbeat_timestamp_seconds", worker="notify-worker",
                 host="app1") == (NOW - timedelta(seconds=42)).timestamp()


def test_requests_errors_and_reports_are_counted(app, client, city):
    before = samples(client.get("/metrics").get_data(as_text=True))

    def delta(after, name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    client.get("/healthz")
    client.get("/no-such-page")
    factories.gen_request(channel="phone")
    factories.gen_request(channel="phone")
    after = samples(client.get("/metrics").get_data(as_text=True))
    # The first scrape itself and /healthz are both answered by the probes group.
    assert delta(after, "civic311_http_request_duration_seconds_count", group="probes") == 2
    assert delta(after, "civic311_http_responses_total", group="unmatched",
                 status_class="4xx") == 1
    assert delta(after, "civic311_reports_received_total", channel="phone") == 2


def test_metrics_answer_local_scrapes_and_the_token_only(make_app):
    app = make_app(METRICS_TOKEN="s3cret-token-for-prometheus")
    with app.app_context():
        client = app.test_client()
        assert client.get("/metrics").status_code == 200
        remote = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/metrics", environ_base=remote).status_code == 403
        proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403
        with_token = client.get(
            "/metrics", environ_base=remote,
            headers={"Authorization": "Bearer s3cret-token-for-prometheus"},
        )
        assert with_token.status_code == 200
        wrong = client.get("/metrics", environ_base=remote,
                           headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        app.config["METRICS_ALLOW"] = "203.0.113.0/24"
        assert client.get("/metrics", environ_base=remote).status_code == 200


def test_each_worker_round_stamps_its_heartbeat_and_logs_a_line(app, caplog):
    rounds = iter([3])
    with caplog.at_level("INFO", logger="civic311.jobs"):
        workers.run_until_stopped("notify-worker", lambda: next(rounds), once=True, interval=0)
    beat = db.session.query(WorkerHeartbeat).one()
    assert (beat.worker, beat.rounds) == ("notify-worker", 1)
    line = next(r for r in caplog.records if r.name == "civic311.jobs")
    assert (line.job, line.done, line.failed) == ("notify-worker", 3, False)
    found = samples(metrics.exposition().decode())
    assert any(name == "civic311_worker_heartbeat_age_seconds" and
               dict(labels)["worker"] == "notify-worker" for name, labels in found)


def test_alert_rules_load_and_name_only_exported_metrics(app, city):
    rules = yaml.safe_load(RULES.read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"Civic311OutboxStuck", "Civic311WorkerSilent", "Civic311ServerErrors"} <= alerts
    db.session.add(WorkerHeartbeat(worker="push", host="h", pid=1, beat_at=NOW))
    db.session.commit()
    families = list(text_string_to_metric_families(metrics.exposition().decode()))
    exported = {family.name for family in families}
    exported |= {sample.name for family in families for sample in family.samples}
    exported |= {f"{family.name}_total" for family in families if family.type == "counter"}
    named = {name for expr in expressions for name in re.findall(r"civic311_[a-z_]+", expr)}
    assert named and named <= exported, named - exported
    promtool = shutil.which("promtool")
    if promtool:
        checked = subprocess.run([promtool, "check", "rules", str(RULES)],
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "SUCCESS: 6 rules found" in checked.stdout
