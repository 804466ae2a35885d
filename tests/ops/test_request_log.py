"""One JSON line per request: its id, the route, the status, hashed callers, no personal data."""

from __future__ import annotations

import json
import logging

from webapp.models import NotificationOutbox, ServiceRequest
from webapp.plumbing.extensions import db
from webapp.plumbing.request_log import JsonLineFormatter, PlainFormatter, log_format

WRITE = {"X-Requested-With": "civic311"}


def _request_lines(caplog) -> list[dict]:
    formatter = JsonLineFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "civic311.requests"
    ]


def test_a_report_is_logged_as_one_json_line_with_its_request_id_and_hashed_device(
    app, client, city, caplog
):
    with caplog.at_level(logging.INFO, logger="civic311.requests"):
        response = client.post(
            "/api/v1/requests?utm=resident@example.com",
            headers={**WRITE, "Idempotency-Key": "5b1e0f61-0000-4000-8000-000000000001",
                     "X-Request-ID": "lb-4f1c2d9e-trace"},
            data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31",
                  "contact_email": "resident@example.com", "contact_name": "Ana Pérez"},
        )
    assert response.status_code == 201, response.get_json()
    assert response.headers["X-Request-ID"] == "lb-4f1c2d9e-trace"
    (line,) = _request_lines(caplog)
    assert line["event"] == "request"
    assert line["request_id"] == "lb-4f1c2d9e-trace"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/api/v1/requests", 201)
    assert isinstance(line["duration_ms"], float)
    stored = db.session.query(ServiceRequest).one()
    assert len(line["device"]) == 16 and line["device"] != str(stored.device_id)
    text = json.dumps(line)
    for personal in ("resident@example.com", "Ana", "utm", response.headers.get("X-Device-Token")):
        assert personal and personal not in text
    # The confirmation e-mail the report queued carries the same id for the worker's logs.
    mail = db.session.query(NotificationOutbox).filter_by(channel="email").one()
    assert mail.http_request_id == "lb-4f1c2d9e-trace"


def test_an_odd_request_id_is_replaced_and_every_answer_carries_one(client):
    given = client.get("/healthz", headers={"X-Request-ID": "has spaces and \u00e9"})
    assert given.headers["X-Request-ID"] != "has spaces and \u00e9"
    assert len(given.headers["X-Request-ID"]) == 32
    other = client.get("/healthz")
    assert other.headers["X-Request-ID"] != given.headers["X-Request-ID"]


def test_the_error_page_shows_the_reference(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html",
                                                 "X-Request-ID": "ref-12345678"})
    assert page.status_code == 404
    assert "ref-12345678" in page.get_data(as_text=True)


def test_plain_text_in_development_and_json_otherwise(make_app):
    assert log_format(make_app()) == "json"
    assert log_format(make_app(DEBUG=True)) == "text"
    assert log_format(make_app(DEBUG=True, LOG_FORMAT="json")) == "json"
    record = logging.makeLogRecord({"msg": "job push did 2", "job": "push", "name": "x"})
    assert PlainFormatter().format(record).endswith("job push did 2 job=push")
    assert json.loads(JsonLineFormatter().format(record))["job"] == "push"


class _Crm:
    """A city CRM that records the X-Request-ID of each forwarded request."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.seen.append(request.headers.get("X-Request-ID"))
        response = Response(
            "<?xml version='1.0'?><service_requests><request>"
            "<service_request_id>CRM-1</service_request_id></request></service_requests>",
            content_type="text/xml",
        )
        return response(environ, start_response)


def test_the_forwarded_open311_call_carries_the_resident_s_request_id(app, client, city):
    from tests.fakes import serve
    from webapp.domain.open311.forwarding import sending
    from webapp.models import ForwardTarget

    crm = _Crm()
    running = serve(crm)
    try:
        db.session.add(ForwardTarget(name="City CRM", department=city["department"],
                                     endpoint=running.url + "/open311/v2/", active=True))
        db.session.commit()
        sent = client.post(
            "/api/v1/requests",
            headers={**WRITE, "Idempotency-Key": "5b1e0f61-0000-4000-8000-000000000002",
                     "X-Request-ID": "lb-forwarded-trace"},
            data={"service_code": "graffiti", "lat": "35.045", "long": "-85.31"},
        )
        assert sent.status_code == 201
        assert sending.send_due() == 1
    finally:
        running.stop()
    assert crm.seen == ["lb-forwarded-trace"]


def _delivery_lines(caplog) -> list[dict]:
    formatter = JsonLineFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "civic311.jobs" and getattr(record, "event", None) == "delivery"
    ]


def test_the_worker_logs_each_e_mail_delivered_with_the_request_id_that_queued_it(
    mail_app, smtp_server, caplog
):
    from webapp.domain.notifications.email import email_channel, mail_queue

    with mail_app.test_request_context(headers={"X-Request-ID": "lb-7a1c-mail-trace"}):
        mail_app.preprocess_request()
        mail_queue.queue_email("resident@example.net", "Your report", "Thank you")
        db.session.commit()
    with caplog.at_level(logging.INFO, logger="civic311.jobs"):
        assert email_channel.deliver_due() == 1
    lines = _delivery_lines(caplog)

    assert [(ln["channel"], ln["state"], ln["request_id"]) for ln in lines] == [
        ("email", "sent", "lb-7a1c-mail-trace")
    ]
    assert "resident@example.net" not in json.dumps(lines)


def test_the_worker_logs_each_push_delivered_with_the_request_id_that_queued_it(
    app, push_service, city, caplog
):
    from tests import factories
    from webapp.domain.lifecycle import workflow
    from webapp.domain.notifications import notify
    from webapp.domain.notifications.push import push_channel
    from webapp.domain.people import devices

    _, device = devices.create()
    request = factories.gen_request("graffiti", device=device)
    keys = push_service.subscription()
    notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    staff = factories.gen_user("staff")
    db.session.commit()
    db.session.query(NotificationOutbox).delete()
    with app.test_request_context(headers={"X-Request-ID": "lb-9e2d-push-trace"}):
        app.preprocess_request()
        workflow.transition(request, "closed", staff, note="Done", resolution="fixed")
        db.session.commit()
    with caplog.at_level(logging.INFO, logger="civic311.jobs"):
        assert push_channel.deliver_due(concurrency=1) == 1
    lines = _delivery_lines(caplog)

    assert [(ln["channel"], ln["state"], ln["request_id"]) for ln in lines] == [
        ("push", "sent", "lb-9e2d-push-trace")
    ]
    assert keys.endpoint not in json.dumps(lines)
