"""Errors raised by domain rules; views turn them into negotiated 4xx responses."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the input. ``status`` is the HTTP status a view should answer.

    ``message`` is already plain language for the person who sent the input; ``field``
    names the input that was wrong, when there is one.
    """

    status = 422

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        details: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        self.details = dict(details or {})
        if field:
            self.details.setdefault("field", field)


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404


class Conflict(DomainError):
    """The input contradicts what is already stored (e.g. an idempotency key reused)."""

    status = 422


class NotAllowed(DomainError):
    """The action is not allowed in the request's current state."""

    status = 409
