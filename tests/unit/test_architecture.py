"""Architecture rules as tests: access decisions, documented routes and settings,
domain modules free of request globals."""

import ast
import re
from pathlib import Path

from webapp.api.openapi import document
from webapp.api.schema import spec
from webapp.plumbing.access import ACCESS_ATTRIBUTE
from webapp.plumbing.config import Config

ROOT = Path(__file__).resolve().parents[2]
FLASK_REQUEST_GLOBALS = {
    "request",
    "session",
    "g",
    "flash",
    "render_template",
    "redirect",
    "url_for",
    "make_response",
    "abort",
}
# The static file route is Flask's own and public by nature.
BUILTIN_PUBLIC_ENDPOINTS = {"static"}


def test_every_route_declares_who_may_call_it(app):
    undecided = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILTIN_PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, ACCESS_ATTRIBUTE, None):
            undecided.append(f"{rule.rule} ({rule.endpoint})")
    assert not undecided, "routes without an access decorator: " + ", ".join(undecided)


def test_every_api_route_is_in_the_openapi_document(app):
    documented = document()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in documented.get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, "undocumented API routes: " + ", ".join(sorted(missing))


def test_every_api_route_declares_its_input(app):
    """The document is generated from declarations, so an undeclared route is a gap."""
    undeclared = [
        f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        and spec.get_function_metadata(app.view_functions[rule.endpoint]) is None
    ]
    assert not undeclared, "API routes without operation(...): " + ", ".join(undeclared)


def test_openapi_document_is_served_and_is_3_1(client):
    body = client.get("/api/v1/openapi.json").get_json()
    assert body["openapi"].startswith("3.1")
    assert "/api/v1/requests" in body["paths"]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    internal = {
        "SQLALCHEMY_ENGINE_OPTIONS",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "REMEMBER_COOKIE_SECURE",
        "REMEMBER_COOKIE_HTTPONLY",
        "REMEMBER_COOKIE_SAMESITE",
        "WTF_CSRF_TIME_LIMIT",
        "RATELIMIT_HEADERS_ENABLED",
        "SUPPORTED_LOCALES",
        "SQLALCHEMY_DATABASE_URI",
        "RATELIMIT_STORAGE_URI",
        "MAX_CONTENT_LENGTH",
        "BABEL_DEFAULT_LOCALE",
        "BABEL_DEFAULT_TIMEZONE",
    }
    source = (ROOT / "webapp" / "plumbing" / "config.py").read_text()
    env_names = set(re.findall(r'_env(?:_int|_bool)?\("([A-Z_]+)"', source))
    missing = sorted(name for name in env_names if f"`{name}`" not in readme)
    assert not missing, "settings missing from the README's configuration table: " + ", ".join(
        missing
    )
    assert all(hasattr(Config, name) for name in internal)


def test_domain_modules_do_not_use_request_globals():
    offenders = []
    for path in sorted((ROOT / "webapp" / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                used = {alias.name for alias in node.names} & FLASK_REQUEST_GLOBALS
                if used:
                    offenders.append(f"{path.name}: {', '.join(sorted(used))}")
    assert not offenders, "domain modules importing request-time globals: " + "; ".join(offenders)
