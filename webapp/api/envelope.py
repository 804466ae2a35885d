"""The one success envelope and the one error shape of the JSON API.

Success: ``{"data": ..., "meta": {...}}``.
Error:   ``{"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.http import HTTP_STATUS_CODES


def error_code(status: int) -> str:
    """A stable machine-readable code for an HTTP status ("not_found")."""
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_").replace("'", "")


def error_body(status: int, message: str, details: dict | None = None) -> dict[str, Any]:
    """Build the single error shape used by every API error."""
    return {
        "error": {
            "status": status,
            "code": error_code(status),
            "message": message,
            "details": details or {},
        }
    }


def error_response(status: int, message: str, details: dict | None = None):
    """A JSON error response with the one error shape."""
    response = jsonify(error_body(status, message, details))
    response.status_code = status
    return response


def envelope(data: Any, status: int = 200, meta: dict | None = None, headers: dict | None = None):
    """A JSON success response wrapping ``data`` in the one envelope."""
    response = jsonify({"data": data, "meta": meta or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
