"""A static Open311 endpoint serving stored copies of real cities' documents
(``tests/data/open311/<prefix>_services.json`` and ``<prefix>_<code>.json``), and
misbehaving endpoints: slow, malformed, XML, an error, endless pages."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote

DATA = Path(__file__).resolve().parents[1] / "data" / "open311"


def static_endpoint(prefix: str):
    """WSGI app: ``/services.json`` and ``/services/<code>.json`` from the stored files."""

    def app(environ, start_response):
        path = unquote(environ["PATH_INFO"])
        if path == "/services.json":
            name = f"{prefix}_services.json"
        elif path.startswith("/services/") and path.endswith(".json"):
            name = f"{prefix}_{path[len('/services/'):-5]}.json"
        else:
            name = ""
        file = DATA / name
        if not name or not file.is_file():
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'[{"code":404,"description":"not found"}]']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [file.read_bytes()]

    return app


def broken_endpoint(kind: str, delay: float = 0.0):
    """WSGI app whose every answer is broken the ``kind`` way."""

    def app(environ, start_response):
        if kind == "slow":
            time.sleep(delay)
        if kind == "error":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        start_response("200 OK", [("Content-Type", "application/json")])
        if kind == "xml":
            return [b"<?xml version='1.0'?><services><service><service_code>1</service></services>"]
        if kind == "malformed":
            return [b'[{"service_code": "1", "service_name": "Pothole"']
        return [b"[]"]

    return app


def endless_requests(service_code: str):
    """WSGI app: ``requests.json`` always returns a full page of new requests."""
    counter = {"n": 0}

    def app(environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        size = int(query.get("page_size", ["1000"])[0])
        items = []
        for _ in range(size):
            counter["n"] += 1
            items.append({
                "service_request_id": f"E{counter['n']}",
                "service_code": service_code,
                "status": "open",
                "requested_datetime": query["start_date"][0],
                "lat": None, "long": None,
            })
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(items).encode()]

    app.counter = counter
    return app
