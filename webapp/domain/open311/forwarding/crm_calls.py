"""Talking to a city's Open311 CRM over HTTP: one call, its failures, and the lookups.

Every answer is read as GeoReport v2 XML. A failure is ``Unreachable`` (worth retrying;
``maybe_arrived`` says whether the CRM may have acted on it, so a retry looks first) or
``Refused`` (a 4xx: retrying will not help, shown to staff with the CRM's own words).
The lookups find a request the CRM made when its answer never reached us: by the token
it answered with, else by searching its requests for our reference.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree

import requests as http
from flask import current_app
from flask_babel import gettext as _

from webapp.models import ForwardTarget, utcnow

SEARCH_MARGIN = timedelta(hours=1)

USER_AGENT = "Civic311 forwarder"


class Unreachable(Exception):
    """The CRM could not be reached or failed on its side (worth retrying).

    ``maybe_arrived`` says what was sent may have been acted on (the CRM was too slow,
    failed after reading it, or its answer was garbled), so a retry must look first."""

    def __init__(self, message: str, *, maybe_arrived: bool = True) -> None:
        super().__init__(message)
        self.maybe_arrived = maybe_arrived


class Refused(Exception):
    """The CRM answered that it will not take this (a 4xx): retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def endpoint(target: ForwardTarget, path: str) -> str:
    """The URL of one of the CRM's GeoReport v2 paths."""
    return target.endpoint.rstrip("/") + "/" + path


def parse_xml(body: bytes) -> ElementTree.Element:
    """The CRM's answer as XML; an answer that is not XML is Unreachable (retry)."""
    try:
        return ElementTree.fromstring(body)  # noqa: S314 - expat refuses entity bombs
    except ElementTree.ParseError:
        raise Unreachable("the CRM answered something that is not XML") from None


def _error_text(body: bytes) -> str:
    """The CRM's own description of a refusal, when it sent the Open311 error shape."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError:
        return body[:200].decode("utf-8", "replace")
    descriptions = [e.findtext("description") or "" for e in root.iter("error")]
    return "; ".join(d for d in descriptions if d) or body[:200].decode("utf-8", "replace")


def call(method: str, url: str, *, timeout: float, **kwargs) -> http.Response:
    """One HTTP call to the CRM; a failure is Unreachable (worth retrying) or Refused (a 4xx)."""
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        response = http.request(method, url, timeout=timeout, headers=headers, **kwargs)
    except http.ConnectTimeout:
        raise Unreachable(
            _("The city's CRM could not be reached (%(error)s).", error="ConnectTimeout"),
            maybe_arrived=False,
        ) from None
    except http.Timeout:
        raise Unreachable(_("The city's CRM did not answer in time.")) from None
    except http.RequestException as error:
        refused = isinstance(error, http.ConnectionError) and "NewConnectionError" in repr(error)
        raise Unreachable(
            _("The city's CRM could not be reached (%(error)s).", error=type(error).__name__),
            maybe_arrived=not refused,
        ) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise Unreachable(
            _("The city's CRM failed (HTTP %(status)s).", status=response.status_code),
            maybe_arrived=response.status_code != 429,
        )
    if response.status_code >= 400:
        raise Refused(
            _(
                "The city's CRM refused it (HTTP %(status)s): %(reason)s",
                status=response.status_code,
                reason=_error_text(response.content),
            ),
            status=response.status_code,
        )
    return response


def _answered_ids(body: bytes) -> tuple[str | None, str | None]:
    """(service_request_id, token) of a POST requests answer; neither: a garbled answer."""
    root = parse_xml(body)
    found = (root.findtext("request/service_request_id") or "").strip()[:120] or None
    token = (root.findtext("request/token") or "").strip()[:120] or None
    if not found and not token:
        raise Unreachable(_("The city's CRM answered without a service_request_id."))
    return found, token


def by_token(target: ForwardTarget, token: str) -> str | None:
    """The CRM's id for a request it answered with a token (None: not made yet)."""
    try:
        response = call(
            "GET",
            endpoint(target, f"tokens/{token}.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            params={"jurisdiction_id": target.jurisdiction_id} if target.jurisdiction_id else {},
        )
    except Refused:
        return None
    return (parse_xml(response.content).findtext("request/service_request_id") or "").strip() or None


def find_at_crm(
    target: ForwardTarget, service_code: str, marker: str, since: datetime
) -> str | None:
    """Search the CRM's requests of ``service_code`` made from ``since`` (less a
    margin for clocks) until now for the one carrying ``marker``; its id, or None.

    Any GeoReport v2 CRM answers ``GET requests`` with ``service_code``, ``start_date``
    and ``end_date``; when it cannot be asked, this raises Unreachable (and nothing
    is sent blind)."""
    now = utcnow().replace(microsecond=0)
    params = {
        "service_code": service_code,
        "start_date": (since - SEARCH_MARGIN).replace(microsecond=0).isoformat(),
        "end_date": (now + SEARCH_MARGIN).isoformat(),
        "status": "open,closed",
    }
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    try:
        response = call(
            "GET",
            endpoint(target, "requests.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            params=params,
        )
    except Refused as refusal:
        raise Unreachable(str(refusal)) from None
    for item in parse_xml(response.content).iter("request"):
        text = item.findtext("description") or ""
        if text.rstrip().endswith(marker):
            return (item.findtext("service_request_id") or "").strip() or None
    return None


def post_request(
    target: ForwardTarget,
    fields: list[tuple[str, str]],
    *,
    key: str,
    marker: str,
    since: datetime,
    looking: bool,
    request_id: str | None = None,
) -> tuple[str | None, str | None]:
    """POST a request once; returns (its id, its token), either may be None.

    ``looking``: an earlier try may have arrived, so look first. On an answer that
    may have been lost, Unreachable is raised with ``maybe_arrived``. ``request_id``
    (the resident's original web request) goes along so both systems' logs match."""
    service_code = dict(fields)["service_code"]
    if looking:
        found = find_at_crm(target, service_code, marker, since)
        if found:
            return found, None
    response = call(
        "POST",
        endpoint(target, "requests.xml"),
        timeout=float(current_app.config["FORWARD_TIMEOUT"]),
        data=fields,
        headers={"Idempotency-Key": key, **({"X-Request-ID": request_id} if request_id else {})},
    )
    found, token = _answered_ids(response.content)
    return found, token


def remote_status(target: ForwardTarget, external_id: str) -> ElementTree.Element | None:
    """The CRM's ``<request>`` for one id (with extensions when it has them)."""
    params = {"service_request_id": external_id, "extensions": "true"}
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    response = call(
        "GET",
        endpoint(target, "requests.xml"),
        timeout=float(current_app.config["FORWARD_TIMEOUT"]),
        params=params,
    )
    for item in parse_xml(response.content).iter("request"):
        if (item.findtext("service_request_id") or "").strip() == external_id:
            return item
    return None


class NotAccepted(Refused):
    """The CRM took the words but not what they asked (a reopening left closed)."""
