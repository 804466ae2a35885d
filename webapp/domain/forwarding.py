"""Forward requests to the city's own Open311 CRM and pull its updates back.

A department (or a single service) may have a ``ForwardTarget``: the CRM's Open311
endpoint, jurisdiction and the API key it issued us. A request for it gets a
``Forwarding`` row in the same transaction that stores the request, so nothing is
lost between the two systems. A worker then:

- **sends** due rows (``POST requests.xml``), each claimed with a lease so two
  workers never send the same one, with an ``Idempotency-Key`` that stays the same
  on every retry (a Civic311 CRM answers a retry with the request it already made;
  for other CRMs the lease and the stored external id keep us from resending).
  Down, 5xx or too slow: retried with growing waits, up to ``FORWARD_MAX_ATTEMPTS``,
  then shown to staff as failed. A 4xx refusal is shown to staff at once as
  "rejected", with the CRM's own words; staff may send it again. Either way the
  request stays in our own queue, untouched.
- **passes on** what residents say here about a forwarded request (a public note,
  a reopening) as ``POST servicerequestupdates.xml``, once the request is there,
  with the same retries; the CRM's echo of it is not pulled back;
- **pulls** updates (``GET servicerequestupdates.xml`` since the last pull, with a
  little overlap; or, when the CRM does not offer it, ``GET requests.xml`` of the
  forwarded ids) and applies them to the timeline by FixMyStreet's acceptance rules
  (``domain/updates.py``), which notifies followers as any change does.

Responses are read as GeoReport v2 XML, the format every Open311 server offers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from xml.etree import ElementTree

import requests as http
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from webapp.domain import open311_statuses, updates
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    RequestEvent,
    ServiceRequest,
    utcnow,
)

FAILED = "failed"
LEASE = timedelta(minutes=2)
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
PULL_OVERLAP = timedelta(minutes=5)
FIRST_PULL = timedelta(days=7)
ID_BATCH = 200
USER_AGENT = "Civic311 forwarder"


class Unreachable(Exception):
    """The CRM could not be reached or failed on its side (worth retrying)."""


class Refused(Exception):
    """The CRM answered that it will not take this (a 4xx): retrying will not help."""


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
    another worker holds it."""
    taken = db.session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.state == ForwardState.PENDING,
            or_(model.claimed_until.is_(None), model.claimed_until < now),
        )
        .values(claimed_until=now + LEASE)
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
    except http.Timeout:
        raise Unreachable(_("The city's CRM did not answer in time.")) from None
    except http.RequestException as error:
        raise Unreachable(
            _("The city's CRM could not be reached (%(error)s).", error=type(error).__name__)
        ) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise Unreachable(
            _("The city's CRM failed (HTTP %(status)s).", status=response.status_code)
        )
    if response.status_code >= 400:
        raise Refused(
            _(
                "The city's CRM refused it (HTTP %(status)s): %(reason)s",
                status=response.status_code,
                reason=_error_text(response.content),
            )
        )
    return response


def _payload(request: ServiceRequest, target: ForwardTarget) -> list[tuple[str, str]]:
    """The GeoReport v2 form of a request, as the CRM expects it."""
    fields: list[tuple[str, str]] = [
        ("api_key", target.api_key or ""),
        ("service_code", request.service.service_code),
        ("description", request.description or request.landmark or ""),
    ]
    if target.jurisdiction_id:
        fields.append(("jurisdiction_id", target.jurisdiction_id))
    if request.lat is not None and request.long is not None:
        fields += [("lat", f"{request.lat:.6f}"), ("long", f"{request.long:.6f}")]
    else:
        fields.append(("address_id", "#NOTPINPOINTED#"))
        if request.landmark and request.landmark not in (request.description or ""):
            fields[2] = ("description", f"{request.landmark}\n\n{request.description}".strip())
    if request.address:
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
    return fields


def _external_id(body: bytes) -> str:
    root = _xml(body)
    found = root.findtext("request/service_request_id") or root.findtext("request/token")
    if not found:
        raise Unreachable(_("The city's CRM answered without a service_request_id."))
    return found.strip()[:120]


def _send(row: Forwarding) -> None:
    config = current_app.config
    response = _call(
        "POST",
        _endpoint(row.target, "requests.xml"),
        timeout=float(config["FORWARD_TIMEOUT"]),
        data=_payload(row.request, row.target),
        headers={
            "Idempotency-Key": row.idempotency_key,
            # The resident's original request, so both systems' logs can be matched.
            **({"X-Request-ID": row.http_request_id} if row.http_request_id else {}),
        },
    )
    row.external_id = _external_id(response.content)


def _record(row: Forwarding, note: str) -> None:
    """A private timeline entry for staff: where the request went, or what failed."""
    from webapp.domain import requests as requests_domain

    requests_domain._record(
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


def _send_update(item: ForwardedUpdate) -> str:
    """POST one resident's update; returns the CRM's id for it."""
    response = _call(
        "POST",
        _endpoint(item.forwarding.target, "servicerequestupdates.xml"),
        timeout=float(current_app.config["FORWARD_TIMEOUT"]),
        data=_update_payload(item),
    )
    found = _xml(response.content).findtext("request_update/update_id")
    if not found:
        raise Unreachable(_("The city's CRM answered without an update_id."))
    return found


def _keep_id(item: ForwardedUpdate, found: str) -> None:
    item.external_id = found.strip()[:120]


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
                db.session.get(ForwardedUpdate, item_id), _send_update, on_sent=_keep_id
            )
    return sent


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
        event = updates.apply_remote_update(
            row.request,
            update_item,
            source_key=f"fwd{target.id}",
            window=window,
            referred_to=target.name,
        )
        if event is not None:
            applied += 1
        db.session.commit()
    return applied


def _fallback_updates(target: ForwardTarget, timeout: float) -> list[updates.RemoteUpdate]:
    """Status sync from ``GET requests`` when the CRM has no ``servicerequestupdates``:
    each forwarded open request whose status there differs becomes one update."""
    rows = db.session.scalars(
        select(Forwarding)
        .join(ServiceRequest, ServiceRequest.id == Forwarding.request_id)
        .where(
            Forwarding.target_id == target.id,
            Forwarding.state == ForwardState.SENT,
            ServiceRequest.status == "open",
        )
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
            if status.lower() == "open" or not status:
                continue
            when = item.findtext("updated_datetime") or ""
            found.append(
                updates.RemoteUpdate(
                    update_id=f"status:{item.findtext('service_request_id')}:{status}:{when}",
                    service_request_id=item.findtext("service_request_id"),
                    status=status,
                    updated_datetime=when,
                    description=item.findtext("status_notes"),
                )
            )
    return found


def pull(target: ForwardTarget, now: datetime | None = None) -> int:
    """Bring the CRM's updates since the last pull onto our timelines; returns how many."""
    now = (now or utcnow()).replace(microsecond=0) + timedelta(seconds=1)
    timeout = float(current_app.config["FORWARD_TIMEOUT"])
    start = (target.updates_pulled_until or now - FIRST_PULL) - PULL_OVERLAP
    start = max(start, now - timedelta(days=89))
    params = {
        "start_date": start.isoformat(timespec="seconds"),
        "end_date": now.isoformat(timespec="seconds"),
        "api_key": target.api_key or "",
    }
    if target.jurisdiction_id:
        params["jurisdiction_id"] = target.jurisdiction_id
    try:
        try:
            response = _call(
                "GET",
                _endpoint(target, "servicerequestupdates.xml"),
                timeout=timeout,
                params=params,
            )
            found, window = _updates_from(_xml(response.content)), (start, now)
        except Refused:
            found, window = _fallback_updates(target, timeout), None
    except (Unreachable, Refused) as failure:
        target.last_error = str(failure)[:1000]
        db.session.commit()
        return 0
    applied = _apply(target, found, window)
    target.updates_pulled_until = now
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
