"""Logs an operator can search: one line per request and per background job.

Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (a
load balancer or proxy usually sets one), else a fresh random one. It is returned in
the ``X-Request-ID`` header, shown on the error page, written into the messages and
forwardings the request queued, and sent on with the forwarded Open311 call, so one
resident's "it failed" can be followed through every log.

``LOG_FORMAT=json`` (the default outside debug mode) writes one JSON object a line;
``text`` writes plain lines for development. Lines never carry personal data: no
query strings (links carry tokens), no e-mail addresses, and the account and device
appear only as a keyed hash (the same person gives the same hash, nobody can turn
it back into an id without the app's secret key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}", re.ASCII)
LOGGER_NAME = "civic311"
_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

request_logger = logging.getLogger(f"{LOGGER_NAME}.requests")
job_logger = logging.getLogger(f"{LOGGER_NAME}.jobs")


def current_request_id() -> str | None:
    """The id of the request being answered, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def hashed_id(kind: str, value: object, key: str | bytes) -> str:
    """A short keyed hash of an account or device id: stable, but not reversible."""
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:16]


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, its ``extra=`` fields and any traceback as one line."""
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_RECORD_FIELDS and not name.startswith("_"):
                line[name] = value
        if "request_id" not in line:
            request_id = current_request_id()
            if request_id:
                line["request_id"] = request_id
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """Readable lines for development, with the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, then ``key=value`` for the record's extras."""
        text = super().format(record)
        extras = {
            name: value
            for name, value in vars(record).items()
            if name not in _STANDARD_RECORD_FIELDS and not name.startswith("_")
        }
        if extras:
            text += " " + " ".join(f"{name}={value}" for name, value in extras.items())
        return text


def log_format(app: Flask) -> str:
    """``json`` or ``text``: the ``LOG_FORMAT`` setting, else text only in debug mode."""
    chosen = (app.config.get("LOG_FORMAT") or "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "text" if app.debug else "json"


def _configure_handlers(app: Flask) -> None:
    """One stream handler for the app's and our loggers, in the chosen format."""
    from flask.logging import default_handler

    formatter = JsonLineFormatter() if log_format(app) == "json" else PlainFormatter()
    app.logger.removeHandler(default_handler)
    for logger in (logging.getLogger(LOGGER_NAME), app.logger):
        handler = next(
            (h for h in logger.handlers if getattr(h, "civic311", False)), None
        )
        if handler is None:
            handler = logging.StreamHandler()
            handler.civic311 = True
            logger.addHandler(handler)
        handler.setFormatter(formatter)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    # Tests read the lines through the root logger; a server writes each line once.
    logging.getLogger(LOGGER_NAME).propagate = bool(app.testing)


def _begin() -> None:
    asked = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = asked if SANE_REQUEST_ID.fullmatch(asked) else secrets.token_hex(16)
    g.request_started = time.perf_counter()


def _who() -> dict:
    """The caller as hashes, from what this request already loaded (never a new query)."""
    key = current_app.secret_key or ""
    found = {}
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        found["user"] = hashed_id("user", user.id, key)
    device = g.get("device")
    if device is not None:
        found["device"] = hashed_id("device", device.id, key)
    return found


def _finish(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    request_logger.info(
        "%s %s %s",
        request.method,
        rule,
        response.status_code,
        extra={
            "event": "request",
            "request_id": request_id,
            "method": request.method,
            "route": rule,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            **_who(),
        },
    )
    return response


def log_job(name: str, done: int, seconds: float, failed: bool = False) -> None:
    """One line for a background job's round (the embedded thread or a worker command)."""
    job_logger.log(
        logging.ERROR if failed else logging.INFO,
        "job %s %s",
        name,
        "failed" if failed else f"did {done}",
        extra={
            "event": "job",
            "job": name,
            "done": done,
            "failed": failed,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def log_delivery(channel: str, outbox_id: int, state: str, request_id: str | None) -> None:
    """One line per recorded delivery outcome, carrying the id of the web request that
    queued the message, so a resident's "I never got the e-mail" can be followed from
    the request's line to the worker's. Never the address, the endpoint or the server's
    words (they can name the resident)."""
    job_logger.info(
        "%s %s %s",
        channel,
        outbox_id,
        state,
        extra={
            "event": "delivery",
            "channel": channel,
            "outbox_id": outbox_id,
            "state": state,
            "request_id": request_id,
        },
    )


def _stamp_request_id(_mapper, _connection, target) -> None:
    """A message or forwarding queued during a request carries that request's id."""
    if target.http_request_id is None:
        target.http_request_id = current_request_id()


def init_app(app: Flask) -> None:
    """Give every request an id, log it as one line, and stamp queued work with it."""
    from webapp.models import Forwarding, NotificationOutbox

    _configure_handlers(app)
    app.before_request(_begin)
    app.after_request(_finish)
    for model in (NotificationOutbox, Forwarding):
        if not event.contains(model, "before_insert", _stamp_request_id):
            event.listen(model, "before_insert", _stamp_request_id)
