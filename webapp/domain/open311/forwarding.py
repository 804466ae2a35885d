"""Forward requests to the city's own Open311 CRM and pull its updates back.

A department (or a single service) may have a ``ForwardTarget``: the CRM's Open311
endpoint, jurisdiction and the API key it issued us. A request for it gets a
``Forwarding`` row in the same transaction that stores the request, so nothing is
lost between the two systems. A worker then:

- **sends** due rows (``POST requests.xml``), each claimed with a lease so two
  workers never send the same one, with an ``Idempotency-Key`` that stays the same
  on every retry (a Civic311 CRM answers a retry with the request it already made)
  and a reference of ours at the end of the description. When an attempt may have
  reached the CRM without its answer reaching us (too slow, 5xx, a garbled answer),
  the next attempt first looks for it — by the ``token`` the CRM answered with, else
  by searching the CRM's requests of that service around that time for our
  reference — and sends again only when it is not there: never blind twice.
  Photos go as ``media_url`` links that are public, signed and expiring.
  Down, 5xx or too slow: retried with growing waits, up to ``FORWARD_MAX_ATTEMPTS``,
  then shown to staff as failed. A 4xx refusal is shown to staff at once as
  "rejected", with the CRM's own words; staff may send it again. Either way the
  request stays in our own queue, untouched.
- **passes on** what residents say here about a forwarded request (a public note,
  a reopening) as ``POST servicerequestupdates.xml``, once the request is there,
  with the same retries; the CRM's echo of it is not pulled back. A reopening is
  checked afterwards: if the CRM kept the request closed, staff see it as not
  accepted. A CRM without that extension gets a reopening as a new request that
  names the old one (the forwarding then follows the new id); a note it cannot take
  is shown to staff as not accepted;
- **pulls** updates (``GET servicerequestupdates.xml`` since the last pull, with a
  little overlap, page after page until the window is read; the window moves only
  as far as was read), or, when the CRM does not offer it, ``GET requests.xml`` of
  the forwarded ids in batches, and applies them to the timeline by FixMyStreet's
  acceptance rules (``domain/updates.py``), comparing each update's time with the
  CRM's time last seen for that request (never with our own clock).

Responses are read as GeoReport v2 XML, the format every Open311 server offers.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from xml.etree import ElementTree

import requests as http
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, or_, select, true, update

from webapp.domain.errors import DomainError
from webapp.domain.open311 import open311_statuses, photo_links, updates
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    Photo,
    PhotoKind,
    RequestEvent,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db

FAILED = "failed"
# An attempt makes at most a lookup and a send, each cut off at FORWARD_TIMEOUT (10 s by
# default), so a live worker finishes well inside the lease; a dead one's row is due
# again a minute later, and the Idempotency-Key and the lookup keep it from being
# made twice at the CRM.
LEASE = timedelta(seconds=60)
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
PULL_OVERLAP = timedelta(minutes=5)
FIRST_PULL = timedelta(days=7)
ID_BATCH = 50
MAX_PAGES = 200
SEARCH_MARGIN = timedelta(hours=1)
REFERENCE = "Civic311 ref."
USER_AGENT = "Civic311 forwarder"
NOT_ACCEPTED = "not_accepted"


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


def target_for(request: ServiceRequest) -> ForwardTarget | None:
    """The active target of the request's service, else of its department."""
    by_service = db.session.scalars(
        select(ForwardTarget).where(
            ForwardTarget.service_id == request.service_id, ForwardTarget.active.is_(True)
        )
    ).first()
    if by_service is not None or request.department_id is None:
        return by_service
    return db.session.scalars(
        select(ForwardTarget).where(
            ForwardTarget.department_id == request.department_id,
            ForwardTarget.active.is_(True),
        )
    ).first()


def queue(request: ServiceRequest) -> Forwarding | None:
    """Queue the request for its CRM, inside the caller's transaction (None if none)."""
    target = target_for(request)
    if target is None:
        return None
    row = Forwarding(
        request=request,
        target=target,
        idempotency_key=str(uuid.uuid4()),
        state=ForwardState.PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def queue_once(request: ServiceRequest) -> Forwarding | None:
    """Once the request's department or service changed, a request that now belongs to
    a city CRM is queued for it, unless it already was (None when nothing was queued)."""
    db.session.flush()
    if for_request(request) is not None:
        return None
    return queue(request)


PASSED_ON = (EventKind.PUBLIC_NOTE, EventKind.REOPENED)


def queue_update(event: RequestEvent) -> ForwardedUpdate | None:
    """Queue a public note or reopening made here for the CRM of a forwarded request
    (not those that came from the CRM), inside the caller's transaction."""
    if not event.public or event.kind not in PASSED_ON:
        return None
    if (event.data or {}).get("source") == "crm":
        return None
    row = for_request(event.request)
    if row is None:
        return None
    item = ForwardedUpdate(event=event, forwarding=row, next_attempt_at=utcnow())
    db.session.add(item)
    return item


def for_request(request: ServiceRequest) -> Forwarding | None:
    """The request's forwarding, for staff views."""
    return db.session.scalars(select(Forwarding).where(Forwarding.request_id == request.id)).first()


def retry(row: Forwarding) -> None:
    """Staff send a rejected or failed request again (a fresh, due attempt)."""
    if row.state == ForwardState.SENT:
        raise DomainError(_("This request already reached the city's CRM."), status=409)
    row.state = ForwardState.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.claimed_until = None


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at an hour."""
    return min(FIRST_WAIT * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def _claim(model: type[Forwarding] | type[ForwardedUpdate], row_id: int, now: datetime) -> bool:
    """Take the lease on one due row (a forwarding or a resident's update); False when
    another worker holds it.

    A lease still set when the row is claimed again ran out: its worker died during
    an attempt whose outcome was never recorded, so the request may be at the CRM
    already and this attempt looks for it before sending again (never blind twice).
    """
    values: dict = {"claimed_until": now + LEASE}
    if model is Forwarding:
        values["lookup_needed"] = case(
            (model.claimed_until.is_not(None), true()), else_=model.lookup_needed
        )
    taken = db.session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.state == ForwardState.PENDING,
            or_(model.claimed_until.is_(None), model.claimed_until < now),
        )
        .values(**values)
    )
    db.session.commit()
    return taken.rowcount == 1


def _attempt(row: Forwarding | ForwardedUpdate, send, *, on_sent, on_stopped=None) -> bool:
    """One attempt at a claimed row: ``send(row)``, then keep the outcome and let the
    lease go. Sent: ``on_sent(row, answer)``. Refused by the CRM: stopped for good.
    Unreachable: tried again later with backoff until the attempts run out, then
    stopped. ``on_stopped(row)`` runs when a row is stopped. Returns whether it was sent.
    """
    row.attempts += 1
    sent = False
    try:
        answer = send(row)
    except Refused as refusal:
        row.state = ForwardState.REJECTED
        row.last_error = str(refusal)[:1000]
        if on_stopped:
            on_stopped(row)
    except Unreachable as failure:
        row.last_error = str(failure)[:1000]
        if row.attempts >= int(current_app.config["FORWARD_MAX_ATTEMPTS"]):
            row.state = FAILED
            if on_stopped:
                on_stopped(row)
        else:
            row.next_attempt_at = utcnow() + backoff(row.attempts)
    else:
        row.state = ForwardState.SENT
        row.sent_at = utcnow()
        row.last_error = None
        on_sent(row, answer)
        sent = True
    row.claimed_until = None
    db.session.commit()
    return sent


def _endpoint(target: ForwardTarget, path: str) -> str:
    return target.endpoint.rstrip("/") + "/" + path


def _xml(body: bytes) -> ElementTree.Element:
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


def _call(method: str, url: str, *, timeout: float, **kwargs) -> http.Response:
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


def reference(request: ServiceRequest, suffix: str = "") -> str:
    """Our reference, carried at the end of the description so we can find the
    request at the CRM when its answer was lost."""
    return f"{REFERENCE} {request.public_id}{suffix}"


def _city_centre() -> tuple[float, float] | None:
    raw = (current_app.config.get("FORWARD_CITY_CENTRE") or "").split(",")
    try:
        return (float(raw[0]), float(raw[1])) if len(raw) == 2 else None
    except ValueError:
        return None


def _location(request: ServiceRequest, description: str) -> tuple[list[tuple[str, str]], str]:
    """Where the request is, as a strict GeoReport v2 CRM accepts it.

    Pinned: ``lat``/``long``. Not pinned, by ``FORWARD_NOT_PINPOINTED``: ``address``
    (default) sends the resident's address or landmark as ``address_string``;
    ``centre`` sends ``FORWARD_CITY_CENTRE`` with a note at the top of the description
    that the point is the city centre, not the place; ``fixmystreet`` sends
    FixMyStreet's ``address_id=#NOTPINPOINTED#`` for CRMs that know it.
    """
    if request.lat is not None and request.long is not None:
        return [("lat", f"{request.lat:.6f}"), ("long", f"{request.long:.6f}")], description
    place = request.address or request.landmark or ""
    if request.landmark and request.landmark not in description:
        description = f"{request.landmark}\n\n{description}".strip()
    strategy = (current_app.config.get("FORWARD_NOT_PINPOINTED") or "address").strip().lower()
    centre = _city_centre()
    if strategy == "centre" and centre is not None:
        note = _("Not pinpointed: the point is the city centre, not the place. The place: %(place)s",
                 place=place or _("see the description"))
        return [("lat", f"{centre[0]:.6f}"), ("long", f"{centre[1]:.6f}")], f"{note}\n\n{description}"
    if strategy == "fixmystreet" or not place:
        return [("address_id", "#NOTPINPOINTED#")], description
    return [("address_string", place[:255])], description


def _photo_links(request: ServiceRequest) -> list[tuple[str, str]]:
    """The report's own photos as signed, expiring ``media_url`` links (the first is
    the one a strict GeoReport v2 CRM reads)."""
    photos = db.session.scalars(
        select(Photo)
        .where(Photo.request_id == request.id, Photo.kind == PhotoKind.REPORT)
        .order_by(Photo.id)
    ).all()
    return [("media_url", photo_links.link(photo)) for photo in photos]


def _payload(
    request: ServiceRequest, target: ForwardTarget, *, description: str | None = None,
    suffix: str = "",
) -> list[tuple[str, str]]:
    """The GeoReport v2 form of a request, as the CRM expects it."""
    text = description if description is not None else (request.description or request.landmark or "")
    location, text = _location(request, text)
    fields: list[tuple[str, str]] = [
        ("api_key", target.api_key or ""),
        ("service_code", request.service.service_code),
        ("description", f"{text}\n\n{reference(request, suffix)}".strip()),
    ]
    if target.jurisdiction_id:
        fields.append(("jurisdiction_id", target.jurisdiction_id))
    fields += location
    if request.address and not any(name == "address_string" for name, _v in location):
        fields.append(("address_string", request.address))
    contact_email = request.contact_email or (
        request.requester.email if request.requester else None
    )
    if contact_email:
        fields.append(("email", contact_email))
    name = request.contact_name or (request.requester.display_name if request.requester else "")
    if name:
        first, _space, last = name.partition(" ")
        fields += [("first_name", first), ("last_name", last)]
    if request.contact_phone:
        fields.append(("phone", request.contact_phone))
    for code, value in (request.attribute_values or {}).items():
        if isinstance(value, list):
            fields += [(f"attribute[{code}][]", str(v)) for v in value]
        else:
            fields.append((f"attribute[{code}]", str(value)))
    return fields + _photo_links(request)


def _answered_ids(body: bytes) -> tuple[str | None, str | None]:
    """(service_request_id, token) of a POST requests answer; neither: a garbled answer."""
    root = _xml(body)
    found = (root.findtext("request/service_request_id") or "").strip()[:120] or None
    token = (root.findtext("request/token") or "").strip()[:120] or None
    if not found and not token:
        raise Unreachable(_("The city's CRM answered without a service_request_id."))
    return found, token


def _by_token(target: ForwardTarget, token: str) -> str | None:
    """The CRM's id for a request it answered with a token (None: not made yet)."""
    try:
        response = _call(
            "GET",
            _endpoint(target, f"tokens/{token}.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            params={"jurisdiction_id": target.jurisdiction_id} if target.jurisdiction_id else {},
        )
    except Refused:
        return None
    return (_xml(response.content).findtext("request/service_request_id") or "").strip() or None


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
        response = _call(
            "GET",
            _endpoint(target, "requests.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            params=params,
        )
    except Refused as refusal:
        raise Unreachable(str(refusal)) from None
    for item in _xml(response.content).iter("request"):
        text = item.findtext("description") or ""
        if text.rstrip().endswith(marker):
            return (item.findtext("service_request_id") or "").strip() or None
    return None


def _post_request(
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
    response = _call(
        "POST",
        _endpoint(target, "requests.xml"),
        timeout=float(current_app.config["FORWARD_TIMEOUT"]),
        data=fields,
        headers={"Idempotency-Key": key, **({"X-Request-ID": request_id} if request_id else {})},
    )
    found, token = _answered_ids(response.content)
    return found, token


def _send(row: Forwarding) -> None:
    """One attempt at getting the request to the CRM: its id by the token it gave,
    else (after looking first when an earlier answer may have been lost) a POST."""
    if row.token and not row.external_id:
        row.external_id = _by_token(row.target, row.token)
        if row.external_id is None:
            raise Unreachable(_("The city's CRM has not made the request yet."), maybe_arrived=False)
        return
    try:
        found, token = _post_request(
            row.target,
            _payload(row.request, row.target),
            key=row.idempotency_key,
            marker=reference(row.request),
            since=row.created_at,
            looking=row.lookup_needed,
            request_id=row.http_request_id,
        )
    except Unreachable as failure:
        row.lookup_needed = row.lookup_needed or failure.maybe_arrived
        raise
    row.lookup_needed = False
    row.token = token
    row.external_id = found
    if found is None:
        found = _by_token(row.target, token)
        row.external_id = found
        if found is None:
            raise Unreachable(_("The city's CRM has not made the request yet."), maybe_arrived=False)


def _record(row: Forwarding, note: str) -> None:
    """A private timeline entry for staff: where the request went, or what failed."""
    from webapp.domain.lifecycle import timeline

    timeline.record(
        row.request,
        EventKind.PRIVATE_NOTE,
        note=note,
        public=False,
        data={"forwarding": row.state, "external_id": row.external_id},
    )


def _record_sent(row: Forwarding, _answer) -> None:
    _record(
        row,
        _(
            "Sent to %(target)s as %(external_id)s.",
            target=row.target.name,
            external_id=row.external_id,
        ),
    )


def send_due(limit: int = 20) -> int:
    """Send due forwardings; returns how many reached the CRM this time."""
    now = utcnow()
    due = db.session.scalars(
        select(Forwarding.id)
        .where(Forwarding.state == ForwardState.PENDING, Forwarding.next_attempt_at <= now)
        .order_by(Forwarding.next_attempt_at, Forwarding.id)
        .limit(limit)
    ).all()
    sent = 0
    for row_id in due:
        if _claim(Forwarding, row_id, now):
            sent += _attempt(
                db.session.get(Forwarding, row_id),
                _send,
                on_sent=_record_sent,
                on_stopped=lambda row: _record(row, row.last_error),
            )
    return sent


def _update_payload(item: ForwardedUpdate) -> list[tuple[str, str]]:
    """mySociety's POST servicerequestupdates fields for one of our timeline entries."""
    event, row = item.event, item.forwarding
    request, target = row.request, row.target
    reopening = event.kind == EventKind.REOPENED
    status = "OPEN" if reopening else open311_statuses.basic_status(request.detailed_status).upper()
    fields = [
        ("api_key", target.api_key or ""),
        ("service_request_id", row.external_id or ""),
        ("update_id", str(event.id)),
        ("status", status),
        ("updated_datetime", event.created_at.isoformat(timespec="seconds")),
        ("description", event.note or ""),
    ]
    if target.jurisdiction_id:
        fields.append(("jurisdiction_id", target.jurisdiction_id))
    email = request.contact_email or (request.requester.email if request.requester else None)
    if email:
        fields.append(("email", email))
    name = (event.data or {}).get("author") or request.contact_name or ""
    if name:
        first, _space, last = name.partition(" ")
        fields += [("first_name", first), ("last_name", last or "-")]
    return fields


def _remote_status(target: ForwardTarget, external_id: str) -> ElementTree.Element | None:
    """The CRM's ``<request>`` for one id (with extensions when it has them)."""
    params = {"service_request_id": external_id, "extensions": "true"}
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    response = _call(
        "GET",
        _endpoint(target, "requests.xml"),
        timeout=float(current_app.config["FORWARD_TIMEOUT"]),
        params=params,
    )
    for item in _xml(response.content).iter("request"):
        if (item.findtext("service_request_id") or "").strip() == external_id:
            return item
    return None


class NotAccepted(Refused):
    """The CRM took the words but not what they asked (a reopening left closed)."""


def _reopen_as_new_request(item: ForwardedUpdate) -> str:
    """A CRM without the updates extension: the reopening goes as a new request that
    names the old one; the forwarding follows the new id from then on."""
    row, event = item.forwarding, item.event
    before = row.external_id
    text = _(
        "Reopened by the resident (it was %(external_id)s at the city's CRM): %(note)s",
        external_id=before,
        note=event.note or "",
    )
    suffix = f"/r{event.id}"
    looking = item.attempts > 1 and (item.last_error or "") != ""
    found, token = _post_request(
        row.target,
        _payload(row.request, row.target, description=text, suffix=suffix),
        key=f"{row.idempotency_key[:30]}-r{event.id}"[:60],
        marker=reference(row.request, suffix),
        since=event.created_at,
        looking=looking,
    )
    if found is None and token:
        found = _by_token(row.target, token)
    if found is None:
        raise Unreachable(_("The city's CRM has not made the request yet."), maybe_arrived=False)
    row.external_id = found
    row.remote_updated_at = None
    return f"request:{found}"


def _send_update(item: ForwardedUpdate) -> str:
    """POST one resident's update; returns the CRM's id for it. A reopening that the
    CRM did not carry out (the request is still closed there) is NotAccepted."""
    reopening = item.event.kind == EventKind.REOPENED
    try:
        response = _call(
            "POST",
            _endpoint(item.forwarding.target, "servicerequestupdates.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            data=_update_payload(item),
        )
    except Refused as refusal:
        if reopening and _no_updates_extension(refusal):
            return _reopen_as_new_request(item)
        raise
    found = _xml(response.content).findtext("request_update/update_id")
    if not found:
        raise Unreachable(_("The city's CRM answered without an update_id."))
    if reopening:
        remote = _remote_status(item.forwarding.target, item.forwarding.external_id or "")
        status = (remote.findtext("status") if remote is not None else "") or ""
        if status.strip().lower() != "open":
            item.external_id = found.strip()[:120]
            raise NotAccepted(
                _("The city's CRM kept the request closed: it took the resident's words as a note only.")
            )
    return found


def _no_updates_extension(refusal: Refused) -> bool:
    """A 404 or 405 on ``servicerequestupdates``: the CRM does not offer it."""
    return refusal.status in (404, 405)


def _keep_id(item: ForwardedUpdate, found: str) -> None:
    item.external_id = found.strip()[:120]


def _update_stopped(item: ForwardedUpdate) -> None:
    """Staff see on the timeline that a resident's word did not reach the CRM."""
    _record(
        item.forwarding,
        _("Not accepted by %(target)s: %(reason)s", target=item.forwarding.target.name,
          reason=item.last_error or ""),
    )


def send_due_updates(limit: int = 50) -> int:
    """Pass due residents' updates to the CRM of requests that reached it."""
    now = utcnow()
    due = db.session.scalars(
        select(ForwardedUpdate.id)
        .join(Forwarding, Forwarding.id == ForwardedUpdate.forwarding_id)
        .where(
            ForwardedUpdate.state == ForwardState.PENDING,
            ForwardedUpdate.next_attempt_at <= now,
            Forwarding.state == ForwardState.SENT,
        )
        .order_by(ForwardedUpdate.id)
        .limit(limit)
    ).all()
    sent = 0
    for item_id in due:
        if _claim(ForwardedUpdate, item_id, now):
            sent += _attempt(
                db.session.get(ForwardedUpdate, item_id),
                _send_update,
                on_sent=_keep_id,
                on_stopped=_update_stopped,
            )
    return sent


def updates_of(row: Forwarding) -> list[ForwardedUpdate]:
    """What residents said on a forwarded request and how far each got, for staff."""
    return list(
        db.session.scalars(
            select(ForwardedUpdate)
            .where(ForwardedUpdate.forwarding_id == row.id)
            .order_by(ForwardedUpdate.id)
        )
    )


def _echoes(row: Forwarding) -> set[str]:
    """The CRM's ids of the updates we passed on for this request (not to pull back)."""
    return set(
        db.session.scalars(
            select(ForwardedUpdate.external_id).where(
                ForwardedUpdate.forwarding_id == row.id,
                ForwardedUpdate.external_id.is_not(None),
            )
        )
    )


def _updates_from(root: ElementTree.Element) -> list[updates.RemoteUpdate]:
    found = []
    for item in root.iter("request_update"):
        found.append(
            updates.RemoteUpdate(
                update_id=item.findtext("update_id"),
                service_request_id=item.findtext("service_request_id"),
                status=item.findtext("status"),
                updated_datetime=item.findtext("updated_datetime"),
                description=item.findtext("description"),
                external_status_code=item.findtext("external_status_code"),
                media_url=item.findtext("media_url"),
            )
        )
    return found


def _referred_to(target: ForwardTarget, external_id: str) -> str:
    """Where the CRM referred a request, when it says so (``referred_to`` among its
    extended attributes); empty when it does not."""
    try:
        remote = _remote_status(target, external_id)
    except (Unreachable, Refused):
        return ""
    if remote is None:
        return ""
    return (remote.findtext("extended_attributes/referred_to") or "").strip()[:120]


def _apply(target: ForwardTarget, found: list[updates.RemoteUpdate], window) -> int:
    applied = 0
    for update_item in found:
        row = db.session.scalars(
            select(Forwarding).where(
                Forwarding.target_id == target.id,
                Forwarding.external_id == (update_item.service_request_id or "").strip(),
            )
        ).first()
        if row is None or (update_item.update_id or "").strip() in _echoes(row):
            continue
        wanted = open311_statuses.incoming(update_item.status)
        referred = ""
        if wanted is not None and wanted.resolution == "referred":
            referred = _referred_to(target, row.external_id)
        event = updates.apply_remote_update(
            row.request,
            update_item,
            source_key=f"fwd{target.id}",
            window=window,
            referred_to=referred,
            remote_since=row.remote_updated_at,
        )
        when = updates.parse_time(update_item.updated_datetime)
        if event is not None and when is not None:
            if row.remote_updated_at is None or when > row.remote_updated_at:
                row.remote_updated_at = when
            applied += 1
        db.session.commit()
    return applied


def _fallback_updates(target: ForwardTarget, timeout: float) -> list[updates.RemoteUpdate]:
    """Status sync from ``GET requests`` when the CRM has no ``servicerequestupdates``:
    the forwarded open requests are asked for in batches of ids, and each whose status
    or notes there changed since we last looked becomes one update."""
    rows = db.session.scalars(
        select(Forwarding)
        .join(ServiceRequest, ServiceRequest.id == Forwarding.request_id)
        .where(
            Forwarding.target_id == target.id,
            Forwarding.state == ForwardState.SENT,
            ServiceRequest.status == "open",
        )
        .order_by(Forwarding.id)
    ).all()
    found: list[updates.RemoteUpdate] = []
    for start in range(0, len(rows), ID_BATCH):
        batch = rows[start : start + ID_BATCH]
        params = {"service_request_id": ",".join(r.external_id for r in batch)}
        if target.jurisdiction_id:
            params["jurisdiction_id"] = target.jurisdiction_id
        response = _call("GET", _endpoint(target, "requests.xml"), timeout=timeout, params=params)
        for item in _xml(response.content).iter("request"):
            status = (item.findtext("status") or "").strip()
            notes = (item.findtext("status_notes") or "").strip()
            if not status or (status.lower() == "open" and not notes):
                continue
            when = item.findtext("updated_datetime") or ""
            said = hashlib.sha256(notes.encode()).hexdigest()[:16]
            found.append(
                updates.RemoteUpdate(
                    update_id=f"status:{item.findtext('service_request_id')}:{status}:{said}",
                    service_request_id=item.findtext("service_request_id"),
                    status=status,
                    updated_datetime=when,
                    description=notes,
                )
            )
    return found


def _feed_page(target: ForwardTarget, start: datetime, end: datetime, page: int, timeout: float):
    params = {
        "start_date": start.isoformat(timespec="seconds"),
        "end_date": end.isoformat(timespec="seconds"),
        "api_key": target.api_key or "",
    }
    if page > 1:
        params["page"] = str(page)
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    response = _call(
        "GET", _endpoint(target, "servicerequestupdates.xml"), timeout=timeout, params=params
    )
    return _updates_from(_xml(response.content))


def _pull_feed(target: ForwardTarget, start: datetime, end: datetime, timeout: float) -> int:
    """Read the CRM's updates feed from ``start`` to ``end`` page after page and apply
    them; moves ``updates_pulled_until`` only as far as was read.

    A CRM's feed is capped per answer (oldest first) and may not know ``page``, so
    each next question starts at the newest time read; a full answer of updates all
    read already asks the next ``page``. The feed is read when an answer brings
    nothing new and is shorter than the longest one seen."""
    cursor, page, largest, applied = start, 1, 0, 0
    seen: set[str] = set()
    for _round in range(MAX_PAGES):
        try:
            found = _feed_page(target, cursor, end, page, timeout)
        except (Unreachable, Refused):
            if cursor > start:
                target.updates_pulled_until = cursor
                db.session.commit()
            raise
        largest = max(largest, len(found))
        fresh = [u for u in found if (u.update_id or "").strip() not in seen]
        seen.update((u.update_id or "").strip() for u in found)
        applied += _apply(target, fresh, (start, end))
        if not found or len(found) < largest or (page > 1 and not fresh):
            target.updates_pulled_until = end
            return applied
        newest = max(
            (t for t in (updates.parse_time(u.updated_datetime) for u in found) if t),
            default=cursor,
        )
        if newest > cursor:
            cursor, page = newest, 1
        else:
            page += 1
    target.updates_pulled_until = cursor
    return applied


def pull(target: ForwardTarget, now: datetime | None = None) -> int:
    """Bring the CRM's updates since the last pull onto our timelines; returns how many."""
    now = (now or utcnow()).replace(microsecond=0) + timedelta(seconds=1)
    timeout = float(current_app.config["FORWARD_TIMEOUT"])
    start = (target.updates_pulled_until or now - FIRST_PULL) - PULL_OVERLAP
    start = max(start, now - timedelta(days=89))
    try:
        try:
            applied = _pull_feed(target, start, now, timeout)
        except Refused:
            applied = _apply(target, _fallback_updates(target, timeout), None)
            target.updates_pulled_until = now
    except (Unreachable, Refused) as failure:
        target.last_error = str(failure)[:1000]
        db.session.commit()
        return 0
    target.last_error = None
    db.session.commit()
    return applied


def pull_all() -> int:
    """Pull every active target that has requests there."""
    targets = db.session.scalars(
        select(ForwardTarget).where(ForwardTarget.active.is_(True)).order_by(ForwardTarget.id)
    ).all()
    return sum(pull(target) for target in targets)


def run_once() -> int:
    """One round of the worker: send what is due, then pull updates."""
    return send_due() + send_due_updates() + pull_all()
