"""A small, strict Open311 GeoReport v2 CRM: what a city's existing CRM that knows
only the spec offers, and nothing more.

Only ``GET services``, ``GET/POST requests`` (``.xml`` and ``.json``), ``GET
requests/<id>`` and, when ``tokens`` is on, ``GET tokens/<token>``: no
``servicerequestupdates``, no ``Idempotency-Key``, no extensions. A request's
``status`` (open/closed) and ``status_notes`` change when the CRM's staff act
(``act``), stamped by the injected ``clock``. On POST it fetches the first
``media_url`` itself, as a CRM does, and keeps the bytes.

Faults, each set by a test: ``down`` (every call is a 503), ``lose`` (the next N
POSTs are stored but their answers lost: a 504 as from a proxy in front), ``cap``
(most requests one ``GET requests`` lists).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import requests as http
from werkzeug.wrappers import Request, Response

SERVICES = ("graffiti", "pothole", "streetlight")


def _time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def w3c(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class CrmRequest:
    """One request as the strict CRM keeps it."""

    service_request_id: str
    service_code: str
    description: str
    lat: str | None
    long: str | None
    address: str | None
    email: str | None
    media_url: str | None
    requested: datetime
    updated: datetime
    status: str = "open"
    status_notes: str = ""
    token: str | None = None
    photo: bytes | None = None
    history: list[tuple[str, str]] = field(default_factory=list)


class StrictGeoReport:
    """The strict CRM as a WSGI app; ``clock`` returns an aware UTC datetime."""

    def __init__(self, clock: Callable[[], datetime], *, tokens: bool = False) -> None:
        self.clock = clock
        self.tokens = tokens
        self.requests: dict[str, CrmRequest] = {}
        self.posts = 0
        self.down = False
        self.lose = 0
        self.cap = 1000
        self.calls: list[str] = []
        self._lock = threading.Lock()

    # --- what the CRM's staff do -------------------------------------------------

    def act(self, service_request_id: str, status: str, notes: str, *, at=None) -> None:
        """Staff at the CRM set a status and a note (at ``at``, else the clock's now)."""
        with self._lock:
            item = self.requests[service_request_id]
            item.status, item.status_notes = status, notes
            item.updated = at or self.clock()
            item.history.append((status, notes))

    def photos(self) -> int:
        """How many requests arrived with a photo the CRM could fetch."""
        return sum(1 for item in self.requests.values() if item.photo)

    # --- the protocol --------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append(f"{request.method} {request.path}")
        if self.down:
            return Response("down for maintenance", status=503)(environ, start_response)
        path = request.path.rstrip("/")
        name, _dot, fmt = path.rpartition("/")[2].partition(".")
        parent = path.rpartition("/")[0].rpartition("/")[2]
        if fmt not in ("xml", "json"):
            response = self._error("xml", 404, "Not found")
        elif name == "services" and request.method == "GET":
            response = self._respond(
                fmt,
                "services",
                "service",
                [{"service_code": c, "service_name": c.title(), "type": "realtime"} for c in SERVICES],
            )
        elif name == "requests" and request.method == "POST":
            response = self._post(request, fmt)
        elif name == "requests" and request.method == "GET":
            response = self._list(request, fmt)
        elif parent == "requests" and request.method == "GET":
            found = self.requests.get(name)
            response = (
                self._respond(fmt, "service_requests", "request", [self._entry(found)])
                if found
                else self._error(fmt, 404, f"No request {name}")
            )
        elif parent == "tokens" and self.tokens and request.method == "GET":
            found = next((r for r in self.requests.values() if r.token == name), None)
            response = (
                self._respond(
                    fmt,
                    "service_requests",
                    "request",
                    [{"service_request_id": found.service_request_id, "token": name}],
                )
                if found
                else self._error(fmt, 404, f"No token {name}")
            )
        else:
            response = self._error(fmt, 404, "Not found")
        return response(environ, start_response)

    def _post(self, request: Request, fmt: str) -> Response:
        form = request.form
        if not form.get("api_key"):
            return self._error(fmt, 403, "api_key is required")
        if form.get("service_code") not in SERVICES:
            return self._error(fmt, 400, "service_code is not known")
        lat, long = form.get("lat"), form.get("long")
        address = form.get("address_string")
        if form.get("address_id"):
            return self._error(fmt, 400, "address_id is not known here")
        if not (lat and long) and not address:
            return self._error(fmt, 400, "a location (lat/long or address_string) is required")
        media_url = form.get("media_url")
        photo = None
        if media_url:
            try:
                fetched = http.get(media_url, timeout=5)
            except http.RequestException:
                fetched = None
            if fetched is not None and fetched.status_code == 200 and fetched.content[:2] == b"\xff\xd8":
                photo = fetched.content
        now = self.clock()
        with self._lock:
            self.posts += 1
            number = f"SR-{1000 + len(self.requests) + 1}"
            token = f"tok-{len(self.requests) + 1:04d}" if self.tokens else None
            self.requests[number] = CrmRequest(
                service_request_id=number,
                service_code=form["service_code"],
                description=form.get("description", ""),
                lat=lat,
                long=long,
                address=address,
                email=form.get("email"),
                media_url=media_url,
                requested=now,
                updated=now,
                token=token,
                photo=photo,
            )
            lost, self.lose = self.lose > 0, max(self.lose - 1, 0)
        if lost:
            return Response("gateway timeout", status=504)
        answer = {"token": token} if token else {"service_request_id": number}
        return self._respond(fmt, "service_requests", "request", [answer], status=201)

    def _list(self, request: Request, fmt: str) -> Response:
        args = request.args
        ids = [i for i in (args.get("service_request_id") or "").split(",") if i]
        if ids:
            found = [self.requests[i] for i in ids if i in self.requests]
        else:
            now = self.clock()
            try:
                start = _time(args.get("start_date")) or now - timedelta(days=90)
                end = _time(args.get("end_date")) or now
            except ValueError:
                return self._error(fmt, 400, "start_date and end_date must be W3C datetimes")
            statuses = (args.get("status") or "open,closed").split(",")
            found = [
                item
                for item in self.requests.values()
                if start <= item.requested <= end
                and item.status in statuses
                and (not args.get("service_code") or item.service_code == args["service_code"])
            ]
            found.sort(key=lambda item: item.requested, reverse=True)
        return self._respond(
            fmt, "service_requests", "request", [self._entry(i) for i in found[: self.cap]]
        )

    @staticmethod
    def _entry(item: CrmRequest) -> dict:
        return {
            "service_request_id": item.service_request_id,
            "status": item.status,
            "status_notes": item.status_notes,
            "service_code": item.service_code,
            "description": item.description,
            "requested_datetime": w3c(item.requested),
            "updated_datetime": w3c(item.updated),
            "address": item.address or "",
            "lat": item.lat or "",
            "long": item.long or "",
            "media_url": item.media_url or "",
        }

    @staticmethod
    def _respond(fmt: str, root: str, child: str, items: list[dict], status: int = 200) -> Response:
        if fmt == "json":
            return Response(json.dumps(items), status=status, content_type="application/json")
        body = "".join(
            f"<{child}>"
            + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in item.items() if v is not None)
            + f"</{child}>"
            for item in items
        )
        return Response(
            f"<?xml version='1.0' encoding='utf-8'?><{root}>{body}</{root}>",
            status=status,
            content_type="text/xml; charset=utf-8",
        )

    @classmethod
    def _error(cls, fmt: str, status: int, description: str) -> Response:
        return cls._respond(
            fmt, "errors", "error", [{"code": status, "description": description}], status=status
        )
