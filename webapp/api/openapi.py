"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of every /api/v1 route.

A test compares this document with the URL map, so a new route without an entry
here fails the suite.
"""

from __future__ import annotations

from flask import jsonify

from webapp.access import public
from webapp.api import bp

ERROR_REF = {"$ref": "#/components/responses/Error"}


def _op(
    summary: str,
    *,
    params: list | None = None,
    body: dict | None = None,
    responses: dict | None = None,
    tags: tuple[str, ...] = ("requests",),
) -> dict:
    operation = {
        "summary": summary,
        "tags": list(tags),
        "responses": responses or {"200": {"$ref": "#/components/responses/Ok"}},
    }
    operation["responses"].setdefault("default", ERROR_REF)
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = body
    return operation


def _q(name: str, description: str, schema_type: str = "string", required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": schema_type},
    }


def _path(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


PUBLIC_ID = _path("public_id", "Public request id, e.g. 311-000123")
WRITE_HEADER = {
    "name": "X-Requested-With",
    "in": "header",
    "required": True,
    "description": "Must be `civic311` on every state-changing call (CSRF defence).",
    "schema": {"type": "string", "const": "civic311"},
}

# The public map: time filter, keyset cursor and grid clusters (meta.total is counted up
# to 1,000 only: meta.total_is_exact says whether it is exact; meta.next_after is the
# cursor of the next page). Anonymous reads carry ETag / Last-Modified and max-age=30.
MAP_READ_PARAMS = [
    _q("since", "Only requests received at or after this ISO 8601 date or date-time"),
    _q("after", "Keyset cursor: meta.next_after of the previous page (instead of page)"),
]
MAP_PATHS: dict[str, dict] = {
    "/api/v1/requests/clusters": {
        "get": _op(
            "Public requests grouped on a grid sized for the zoom level; a cell holding one "
            "request carries it (id, service, status label, url) so it can be a marker",
            params=[
                _q("bbox", "minLon,minLat,maxLon,maxLat"),
                _q("zoom", "Map zoom level 0..22 (default 13)", "integer"),
                _q("status", "open, closed, or a detailed status"),
                _q("service_code", "Only this service"),
                _q("since", "Only requests received at or after this ISO 8601 date"),
            ],
        ),
    },
}

PATHS: dict[str, dict] = {
    "/api/v1/openapi.json": {"get": _op("This document", tags=("meta",))},
    "/api/v1/services": {"get": _op("Active services with their attributes", tags=("services",))},
    "/api/v1/requests": {
        "get": _op(
            "Public requests, newest first",
            params=[
                _q("bbox", "minLon,minLat,maxLon,maxLat"),
                _q("status", "open, closed, or a detailed status"),
                _q("service_code", "Only this service"),
                _q("page", "Page number from 1", "integer"),
                _q("page_size", "1..200 (default 50)", "integer"),
                *MAP_READ_PARAMS,
            ],
        ),
        "post": _op(
            "Create a request (multipart) exactly once per Idempotency-Key",
            params=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "description": "The outbox item's client_uuid (a UUID)",
                    "schema": {"type": "string", "format": "uuid"},
                },
                WRITE_HEADER,
            ],
            body={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["service_code"],
                            "properties": {
                                "service_code": {"type": "string"},
                                "lat": {"type": "number"},
                                "long": {"type": "number"},
                                "accuracy": {
                                    "type": "number",
                                    "description": "GPS accuracy in metres",
                                },
                                "description": {"type": "string", "maxLength": 4000},
                                "landmark": {
                                    "type": "string",
                                    "description": "Where it is, in words. With no lat/long the "
                                    "request is stored without a point and flagged "
                                    "needs_location for staff to place it.",
                                },
                                "address": {"type": "string"},
                                "attributes": {
                                    "type": "string",
                                    "description": "JSON object of answers",
                                },
                                "contact_name": {"type": "string"},
                                "contact_email": {"type": "string"},
                                "contact_phone": {"type": "string"},
                                "notify": {
                                    "type": "string",
                                    "description": "1 to follow the request",
                                },
                                "captured_at": {"type": "string", "format": "date-time"},
                                "photos": {
                                    "type": "array",
                                    "maxItems": 3,
                                    "items": {"type": "string", "format": "binary"},
                                },
                            },
                        }
                    }
                },
            },
            responses={
                "201": {"$ref": "#/components/responses/Ok"},
                "200": {"description": "Replay: the original request"},
                "400": ERROR_REF,
                "413": ERROR_REF,
                "422": ERROR_REF,
                "429": ERROR_REF,
            },
        ),
    },
    "/api/v1/requests/{public_id}": {
        "get": _op("One request with its public timeline", params=[PUBLIC_ID]),
    },
    # One front door: knowledge answers and the call-taker's requests.
    "/api/v1/answers": {
        "get": _op(
            "Published knowledge answers: full-text search, or those of a service or topic",
            params=[
                _q("q", "Words to search for (all words first, else any word)"),
                _q("service_code", "Only answers linked to this service"),
                _q("topic", "Only answers of this general topic"),
            ],
            tags=("answers",),
        ),
    },
    "/api/v1/answers/{slug}": {
        "get": _op(
            "One published answer: Markdown body and sanitized HTML",
            params=[_path("slug", "The answer's address, e.g. bulky-item-pickup")],
            responses={"200": {"$ref": "#/components/responses/Ok"}, "404": ERROR_REF},
            tags=("answers",),
        ),
    },
    "/api/v1/answers/{slug}/resolved": {
        "post": _op(
            "This answered my question: counts a contact resolved by self-service",
            params=[_path("slug", "The answer's address"), WRITE_HEADER],
            body={
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "service_code": {"type": "string"},
                                "channel": {"type": "string", "enum": ["pwa", "web"]},
                            },
                        }
                    }
                },
            },
            responses={"201": {"$ref": "#/components/responses/Ok"}, "404": ERROR_REF},
            tags=("answers",),
        ),
    },
    "/api/v1/staff/requests": {
        "post": _op(
            "Staff: log a request for a caller (phone, walk-in or e-mail); contact is private",
            params=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "A UUID; a retried call returns the original request",
                    "schema": {"type": "string", "format": "uuid"},
                },
                WRITE_HEADER,
            ],
            body={
                "required": True,
                "content": {
                    media: {
                        "schema": {
                            "type": "object",
                            "required": ["channel", "service_code"],
                            "properties": {
                                "channel": {
                                    "type": "string",
                                    "enum": ["phone", "walk_in", "email"],
                                },
                                "service_code": {"type": "string"},
                                "lat": {"type": "number"},
                                "long": {"type": "number"},
                                "address": {"type": "string"},
                                "landmark": {"type": "string"},
                                "description": {"type": "string", "maxLength": 4000},
                                "attributes": {
                                    "type": "object",
                                    "description": "Answers to the service's questions",
                                },
                                "caller_name": {"type": "string"},
                                "caller_email": {"type": "string"},
                                "caller_phone": {"type": "string"},
                                "caller_address": {"type": "string"},
                                "confirm_by_email": {
                                    "type": "boolean",
                                    "description": "E-mail the number and tracking link",
                                },
                            },
                        }
                    }
                    for media in ("application/json", "multipart/form-data")
                },
            },
            responses={
                "201": {"$ref": "#/components/responses/Ok"},
                "200": {"description": "Replay: the original request"},
                "400": ERROR_REF,
                "401": ERROR_REF,
                "403": ERROR_REF,
                "422": ERROR_REF,
            },
            tags=("staff",),
        ),
    },
    **MAP_PATHS,
}


def register_path(path: str, operations: dict) -> None:
    """Let another module of the API document its own routes."""
    PATHS.setdefault(path, {}).update(operations)


def document() -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Civic311 API",
            "version": "1",
            "description": "Resident, liaison and staff API of Civic311. Successful "
            "responses are {data, meta}; errors are {error: {status, code, "
            "message, details}}.",
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "code", "message", "details"],
                            "properties": {
                                "status": {"type": "integer"},
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
                "Envelope": {
                    "type": "object",
                    "required": ["data", "meta"],
                    "properties": {"data": {}, "meta": {"type": "object"}},
                },
            },
            "responses": {
                "Ok": {
                    "description": "Success",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}
                    },
                },
                "Error": {
                    "description": "Error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        },
    }


@bp.get("/openapi.json")
@public
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(document())
