"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the declarations.

Nothing here is written by hand per route: spectree walks the URL map and reads each
operation's declared models (``webapp.api.schema.operation``). A test checks that every
/api/v1 route carries a declaration, so an undeclared route fails the suite.
"""

from __future__ import annotations

import copy
import re

from flask import current_app, jsonify

from webapp.api import schema
from webapp.api.blueprint import bp
from webapp.api.schema import operation, spec
from webapp.plumbing.access import public

ERROR_RESPONSE = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
WRITE_HEADER = {
    "name": "X-Requested-With",
    "in": "header",
    "required": True,
    "description": "Must be `civic311` on every state-changing call (CSRF defence).",
    "schema": {"type": "string", "const": "civic311"},
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _without_null(schema: dict) -> dict:
    """A parameter is absent or a string: drop pydantic's ``null`` branch of optionals."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1 and len(schema["anyOf"]) == 2:
        schema = {
            **{k: v for k, v in schema.items() if k not in ("anyOf", "default")},
            **branches[0],
        }
    return schema


def _optional_bodies(document: dict) -> None:
    """A body declared with ``body_required=False`` is documented as optional."""
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions.get(rule.endpoint)
        if not rule.rule.startswith("/api/v1") or not schema.declared(view, "body_optional", False):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            declared_operation = document["paths"].get(path, {}).get(method.lower(), {})
            if "requestBody" in declared_operation:
                declared_operation["requestBody"]["required"] = False


def _finish(document: dict) -> dict:
    """Keep /api/v1 only, give every operation the error default and the write header."""
    document["paths"] = {
        path: operations
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1")
    }
    for operations in document["paths"].values():
        for method, declared in operations.items():
            declared["responses"]["default"] = copy.deepcopy(ERROR_RESPONSE)
            parameters = [p for p in declared["parameters"] if p["name"] != WRITE_HEADER["name"]]
            for parameter in parameters:
                parameter["schema"] = _without_null(parameter["schema"])
            if method in WRITE_METHODS:
                parameters.insert(0, WRITE_HEADER)
            declared["parameters"] = parameters
    _optional_bodies(document)
    document["servers"] = [{"url": "/"}]
    return document


def document() -> dict:
    """The whole OpenAPI document (built once per app)."""
    cached = current_app.extensions.get("civic311.openapi")
    if cached is None:
        cached = _finish(copy.deepcopy(spec._generate_spec()))
        current_app.extensions["civic311.openapi"] = cached
    return cached


@bp.get("/openapi.json")
@public
@operation(tags=["meta"], enveloped=False)
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(document())
