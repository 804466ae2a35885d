"""Sending due forwardings and residents' updates to the CRM, each claimed with a lease.

A row is claimed (``_claim``) so two workers never send the same one, attempted once,
and its outcome kept (``_attempt``): sent, refused for good ("rejected"), or retried with
growing waits up to ``FORWARD_MAX_ATTEMPTS`` and then failed. A request is never sent
blind twice: after an attempt that may have arrived, the next looks for it first. A
reopening the CRM cannot take as an update goes as a new request that names the old
one. Staff see every stop on the request's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, or_, select, true, update

from webapp.domain.open311.forwarding.crm_calls import (
    NotAccepted,
    Refused,
    Unreachable,
    by_token,
    call,
    endpoint,
    parse_xml,
    post_request,
    remote_status,
)
from webapp.domain.open311.forwarding.crm_payloads import reference, request_fields, update_fields
from webapp.domain.open311.forwarding.pulling import pull_all
from webapp.models import EventKind, ForwardedUpdate, Forwarding, ForwardState, utcnow
from webapp.plumbing.extensions import db

FAILED = "failed"

# An attempt makes at most a lookup and a send, each cut off at FORWARD_TIMEOUT (10 s by
# default), so a live worker finishes well inside the lease; a dead one's row is due
# again a minute later, and the Idempotency-Key and the lookup keep it from being
# made twice at the CRM.
LEASE = timedelta(seconds=60)

FIRST_WAIT = timedelta(seconds=30)

LONGEST_WAIT = timedelta(hours=1)

NOT_ACCEPTED = "not_accepted"


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


def _send(row: Forwarding) -> None:
    """One attempt at getting the request to the CRM: its id by the token it gave,
    else (after looking first when an earlier answer may have been lost) a POST."""
    if row.token and not row.external_id:
        row.external_id = by_token(row.target, row.token)
        if row.external_id is None:
            raise Unreachable(_("The city's CRM has not made the request yet."), maybe_arrived=False)
        return
    try:
        found, token = post_request(
            row.target,
            request_fields(row.request, row.target),
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
        found = by_token(row.target, token)
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
    return _claim_and_attempt_each(
        Forwarding,
        due,
        now,
        _send,
        on_sent=_record_sent,
        on_stopped=lambda row: _record(row, row.last_error),
    )


def _claim_and_attempt_each(model, due: list[int], now: datetime, send, *, on_sent, on_stopped):
    """Claim each due row in turn and, when the claim was won, make one attempt at it;
    returns how many reached the CRM."""
    sent = 0
    for row_id in due:
        if _claim(model, row_id, now):
            sent += _attempt(
                db.session.get(model, row_id), send, on_sent=on_sent, on_stopped=on_stopped
            )
    return sent


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
    found, token = post_request(
        row.target,
        request_fields(row.request, row.target, description=text, suffix=suffix),
        key=f"{row.idempotency_key[:30]}-r{event.id}"[:60],
        marker=reference(row.request, suffix),
        since=event.created_at,
        looking=looking,
    )
    if found is None and token:
        found = by_token(row.target, token)
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
        response = call(
            "POST",
            endpoint(item.forwarding.target, "servicerequestupdates.xml"),
            timeout=float(current_app.config["FORWARD_TIMEOUT"]),
            data=update_fields(item),
        )
    except Refused as refusal:
        if reopening and _no_updates_extension(refusal):
            return _reopen_as_new_request(item)
        raise
    found = parse_xml(response.content).findtext("request_update/update_id")
    if not found:
        raise Unreachable(_("The city's CRM answered without an update_id."))
    if reopening:
        remote = remote_status(item.forwarding.target, item.forwarding.external_id or "")
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
    return _claim_and_attempt_each(
        ForwardedUpdate, due, now, _send_update, on_sent=_keep_id, on_stopped=_update_stopped
    )


def run_once() -> int:
    """One round of the worker: send what is due, then pull updates."""
    return send_due() + send_due_updates() + pull_all()
