"""Negotiated error responses: JSON for API callers, a page for browsers.

API bodies come from ``webapp.api.envelope.error_body`` so the whole API has one
error shape; Open311 paths answer in the GeoReport v2 error shape instead.

The error path never needs the database: when the database is down the answer must
still come in the caller's shape (a phone's outbox reads the JSON and retries). So a
server error stops the caller's account and device from being looked up, and the
language then comes from the cookie, the browser or the city's default.
"""

from __future__ import annotations

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from webapp.api.envelope import error_response
from webapp.domain.errors import DomainError
from webapp.plumbing.access import wants_json
from webapp.plumbing.extensions import db, login_manager

DATABASE_RETRY_AFTER_SECONDS = "30"

PLAIN_MESSAGES = {
    400: _l("That request could not be understood."),
    401: _l("Please sign in first."),
    403: _l("You do not have permission to do that."),
    404: _l("We could not find that."),
    405: _l("That action is not allowed here."),
    409: _l("That cannot be done right now."),
    413: _l("That upload is too large. Please send smaller or fewer photos."),
    422: _l("Some of what was sent is not valid."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
    503: _l("The service is unavailable for a moment. Nothing was saved; please try again soon."),
}


def plain_message(code: int) -> str:
    """The translated plain-language message for an HTTP status code."""
    return str(PLAIN_MESSAGES.get(code, _l("Something went wrong.")))


def negotiated_error(
    code: int, message: str, details: dict | None = None, headers: dict | None = None
):
    """Answer an error in the caller's format: Open311, JSON API or an HTML page."""
    if request.path.startswith("/open311/"):
        from webapp.open311.errors import open311_error_response

        response = open311_error_response(code, message)
    elif wants_json():
        response = error_response(code, message, details)
    else:
        response = make_response(
            render_template("errors/error.html", code=code, message=message), code
        )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def forget_caller_lookups() -> None:
    """Answer as an anonymous caller without a device unless they were already loaded.

    Loading the signed-in account or the device reads the database; on the error path
    the database may be what failed, so the error is answered without them.
    """
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    if "device" not in g:
        g.device = None


def _rollback_quietly() -> None:
    """Roll back the session; a dead connection must not turn the answer into a crash."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing was written anyway
        current_app.logger.warning("rollback failed on the error path", exc_info=True)


def is_database_unreachable(error: BaseException) -> bool:
    """True when the database could not be reached or the connection dropped."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def handle_http_error(error: HTTPException):
    """Answer any HTTP error in the caller's format, keeping headers like Retry-After."""
    code = error.code or 500
    if code >= 500:
        forget_caller_lookups()
        _rollback_quietly()
    headers = {}
    if code == 429:
        retry_after = error.get_response().headers.get("Retry-After")
        if retry_after:
            headers["Retry-After"] = retry_after
    if code == 405:
        headers["Allow"] = error.get_response().headers.get("Allow", "")
    message = getattr(error, "civic_message", None) or plain_message(code)
    return negotiated_error(code, message, getattr(error, "details", None), headers)


def handle_domain_error(error: DomainError):
    """A rule refused the input: roll back so nothing is half-written, then explain."""
    db.session.rollback()
    return negotiated_error(error.status, error.message, error.details)


def handle_unexpected_error(error: Exception):
    """Roll back and answer 500 for anything unhandled, without leaking the traceback.

    A database that cannot be reached is a 503 with ``Retry-After``: nothing was saved
    and the same request will work once it is back.
    """
    forget_caller_lookups()
    _rollback_quietly()
    unreachable = is_database_unreachable(error)
    # Counted by webapp.operations.metrics when the answer goes out.
    g.unhandled_error_kind = "database_unreachable" if unreachable else "other"
    if unreachable:
        current_app.logger.error("database unreachable: %s", type(error).__name__)
        return negotiated_error(
            503, plain_message(503), headers={"Retry-After": DATABASE_RETRY_AFTER_SECONDS}
        )
    current_app.logger.exception("unhandled error", exc_info=error)
    return negotiated_error(500, plain_message(500))


def init_app(app: Flask) -> None:
    """Register the negotiated handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected_error)
