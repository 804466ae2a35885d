"""Metrics for real: two gunicorn worker processes behind one /metrics page that sums
them, scraped by a real Prometheus (Debian's ``prometheus``) that also loads the
sample alert rules."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus-alerts.yml"
HITS = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _poll(read, attempts: int = 900):
    """Ask until there is an answer (bounded tries; nothing depends on how long)."""
    for _ in range(attempts):
        try:
            answer = read()
        except OSError:
            answer = None
        if answer:
            return answer
        time.sleep(0.1)
    raise AssertionError("no answer")


def _query(api: str, expr: str):
    return json.loads(_get(f"{api}/query?query={quote(expr)}"))["data"]["result"]


def _value(api: str, expr: str) -> float:
    return float(_poll(lambda: _query(api, expr))[0]["value"][1])


def test_gunicorn_workers_summed_and_scraped_by_a_real_prometheus(
    request, database_backend, tmp_path
):
    kind, template = database_backend
    if kind != "sqlite":
        pytest.skip("process plumbing, not database behaviour: runs in the SQLite pass")
    binary = shutil.which("prometheus")
    if binary is None:
        skip_or_fail(request.config, "prometheus is not installed (apt-get install prometheus)")
    database = tmp_path / "civic311.db"
    shutil.copyfile(template, database)
    app_port, prometheus_port = _free_port(), _free_port()
    metrics_dir = tmp_path / "multiproc"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_DIR": str(tmp_path),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "BACKGROUND_WORKER": "off",
        "SECRET_KEY": "k3J9x2QmV7pL0sT8wZ4rN6yB1cH5dF0aE2gU9iO7",
        "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
    }
    (tmp_path / "rules.yml").write_text(RULES.read_text())
    (tmp_path / "prometheus.yml").write_text(json.dumps({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "scrape_configs": [{
            "job_name": "civic311",
            "static_configs": [{"targets": [f"127.0.0.1:{app_port}"]}],
        }],
    }))
    app_log = (tmp_path / "gunicorn.log").open("wb")
    prometheus_log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "webapp:create_app()"],
        cwd=ROOT, env=env, stdout=app_log, stderr=subprocess.STDOUT,
    )
    prometheus = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        stdout=prometheus_log, stderr=subprocess.STDOUT,
    )
    base, api = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{prometheus_port}/api/v1"
    try:
        _poll(lambda: _get(base + "/readyz"))
        for _ in range(HITS):
            _get(base + "/healthz")
        # Prometheus's scrapes are answered in the probes group too, so compare with
        # what the app itself sums at the same moment: every /healthz is in it.
        probes = 'sum(civic311_http_responses_total{group="probes",status_class="2xx"})'
        assert _poll(lambda: _value(api, probes) >= HITS + 1)
        assert _value(api, 'up{job="civic311"}') == 1
        assert _value(api, 'civic311_outbox_waiting_messages{channel="email"}') == 0
        groups = _poll(lambda: json.loads(_get(api + "/rules"))["data"]["groups"])
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == 6 and all(rule["health"] != "err" for rule in rules)
        prometheus.send_signal(signal.SIGTERM)
        prometheus.wait(timeout=60)
        final = _get(base + "/metrics")
    finally:
        for process in (prometheus, server):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
        app_log.close()
        prometheus_log.close()
    output = (tmp_path / "gunicorn.log").read_text().splitlines()
    assert sum("Booting worker" in line for line in output) == 2
    logged = [json.loads(line) for line in output if line.startswith("{")]
    answered = [line for line in logged if line["endpoint"].startswith("probes.")]
    # Every probe answered by either worker is in the one page's sum (the last scrape is
    # counted after it was written, so it is the one not in it).
    summed = next(
        sample.value
        for family in text_string_to_metric_families(final)
        for sample in family.samples
        if sample.name == "civic311_http_responses_total"
        and sample.labels == {"group": "probes", "status_class": "2xx"}
    )
    assert summed == len(answered) - 1 >= HITS
