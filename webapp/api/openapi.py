"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the declarations.

Nothing here is written by hand per route: spectree walks the URL map and reads each
operation's declared models (``webapp.api.schema.operation``). A test checks that every
/api/v1 route carries a declaration, so an undeclared route fails the suite.
"""

from __future__ import annotations

import copy
import functools
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
    if len(branches) == len(schema.get("anyOf", [])):
        return schema
    kept = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**kept, **branches[0]} if len(branches) == 1 else {**kept, "anyOf": branches}


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


def _form_schema(schema: dict, components: dict) -> dict:
    """A form cannot send ``null``: a form body's optional fields are absent or a value."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    schema = copy.deepcopy(schema)
    properties = schema.get("properties", {})
    for name, field in properties.items():
        properties[name] = _without_null(field)
    return schema


def _form_bodies(document: dict) -> None:
    """Each form body inline, without ``null``."""
    components = document.get("components", {}).get("schemas", {})
    for operations in document["paths"].values():
        for declared in operations.values():
            content = declared.get("requestBody", {}).get("content", {})
            form = content.get("multipart/form-data")
            if form is None:
                continue
            form["schema"] = _form_schema(form["schema"], components)


def _push_endpoints(document: dict) -> None:
    """The subscription's endpoint: a URL on one of this city's push services."""
    endpoint = document["components"]["schemas"]["SubscribeBody"]["properties"]["endpoint"]
    endpoint["pattern"] = endpoint_pattern(current_app.config["PUSH_SERVICES"])


# A host name label, a port, and the characters of a URL's path and query.
_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PORT = "(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
_REST = "(?:[/?][A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?"


def endpoint_pattern(services) -> str:
    """The endpoints the push-service rule accepts (``PUSH_SERVICES``, see
    ``webapp.domain.notifications.push_endpoints``) as a regular expression. ``*`` (any
    public host) is wider than a pattern can say: then the document says https only."""
    hosts = []
    for entry in services:
        entry = entry.strip().lower()
        if entry == "*":
            return "^https://"
        if entry.startswith("http://"):
            hosts.append("http://" + re.escape(entry[len("http://") :].rstrip("/")))
        elif entry.startswith("*."):
            hosts.append(f"https://(?:{_LABEL}\\.)+" + re.escape(entry[2:]))
        else:
            hosts.append("https://" + re.escape(entry))
    return "^(?:" + "|".join(hosts) + ")" + _PORT + _REST + "$"


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
    _form_bodies(document)
    _push_endpoints(document)
    document["servers"] = [{"url": "/"}]
    return document


@functools.cache
def _generated() -> dict:
    """spectree's document, generated once per process: a second generation leaves out
    the nested models (it moves them out of the models' schemas the first time)."""
    return spec._generate_spec()


def document() -> dict:
    """The whole OpenAPI document (built once per app)."""
    cached = current_app.extensions.get("civic311.openapi")
    if cached is None:
        cached = _finish(copy.deepcopy(_generated()))
        current_app.extensions["civic311.openapi"] = cached
    return cached


@bp.get("/openapi.json")
@public
@operation(tags=["meta"], enveloped=False)
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(document())
