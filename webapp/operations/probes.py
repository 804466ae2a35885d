"""Endpoints for the machines that run the app: a load balancer and Prometheus.

``GET /healthz``: the process is alive and answering (no database, nothing slow);
restart it when this fails. ``GET /readyz``: this server can serve traffic now
(see ``webapp.operations.readiness``); take it out of the pool while it answers 503, the body
naming the failing parts. ``GET /metrics``: Prometheus's text format.

None of them is rate limited, sets a cookie or touches the session.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, jsonify

from webapp.operations import metrics, readiness
from webapp.plumbing.access import local_scrape, public
from webapp.plumbing.extensions import limiter

bp = Blueprint("probes", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@public
def healthz():
    """Alive: answered without the database."""
    return Response("ok\n", mimetype="text/plain", headers=NO_STORE)


@bp.get("/readyz")
@public
def readyz():
    """Ready: 200 with every check, or 503 naming the ones that failed."""
    checks = readiness.run_checks()
    failing = [check.name for check in checks if not check.ok]
    body = {
        "status": "not ready" if failing else "ready",
        "failing": failing,
        "checks": {check.name: check.detail for check in checks},
    }
    return jsonify(body), 503 if failing else 200, NO_STORE


@bp.get("/metrics")
@local_scrape
def metrics_page():
    """The Prometheus exposition (refused to anyone but local scrapers or the token)."""
    if not metrics.scrape_allowed():
        abort(403)
    return Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE, headers=NO_STORE)


def init_app(app: Flask) -> None:
    """Register the probes, exempt from rate limits, and the request metrics."""
    limiter.exempt(bp)
    app.register_blueprint(bp)
    metrics.init_app(app)
