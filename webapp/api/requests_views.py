"""Requests through the JSON API: list, read one, and create (idempotent)."""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, request, url_for
from flask_babel import gettext as _

from webapp.api import map_views
from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import (
    PUBLIC_ID_PATH,
    CreateRequestForm,
    CreateRequestHeaders,
    RequestListQuery,
)
from webapp.api.responses import RequestList, RequestOne
from webapp.api.schema import inputs, operation
from webapp.api.serialize import request_json
from webapp.api.services_views import known_service
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.lifecycle.requests import get_by_public_id, load_public_record
from webapp.domain.people import device_handover
from webapp.models import Channel, Role
from webapp.plumbing import limits
from webapp.plumbing.access import public
from webapp.plumbing.extensions import limiter
from webapp.plumbing.sessions import current_account, current_device


@bp.get("/requests")
@public
@operation(tags=["requests"], query=RequestListQuery, returns=RequestList)
def list_requests():
    """Public requests, newest first, filtered by bbox, status, service and time, paged."""
    return map_views.list_requests_response(inputs().query)


@bp.get("/requests/<public_id>")
@public
@operation(tags=["requests"], path=PUBLIC_ID_PATH, returns=RequestOne)
def get_request(public_id: str):
    """One request with its public timeline."""
    service_request = get_by_public_id(public_id)
    if not service_request.service.public:
        raise DomainError(_("We could not find that request."), status=404)
    return envelope(request_json(service_request, timeline=True))


def _device_rate_key() -> str:
    """Anonymous submissions are limited per device (its token, or "new" before it has one)."""
    token = request.headers.get("X-Device-Token") or request.cookies.get("civic_device")
    return f"submit-device:{token or 'new|' + (request.remote_addr or '')}"


def _address_rate_key() -> str:
    """…and per network address, so dropping the device cookie does not lift the limit."""
    return f"submit-address:{request.remote_addr}"


def _anonymous_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT"]


def _signed_in() -> bool:
    return current_account() is not None


def _parse_datetime(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(
            _("captured_at must be an ISO 8601 date and time."), status=400, field="captured_at"
        ) from None
    if value.tzinfo is None:
        raise DomainError(
            _("captured_at must include a timezone."), status=400, field="captured_at"
        )
    return value


def _attributes_from_form(checked: CreateRequestForm) -> dict:
    """Attribute answers from ``attributes`` (JSON) or ``attribute[code]`` fields."""
    answers: dict = {}
    if checked.attributes:
        try:
            answers = json.loads(checked.attributes)
        except ValueError:
            raise DomainError(
                _("attributes must be a JSON object."), status=400, field="attributes"
            ) from None
        if not isinstance(answers, dict):
            raise DomainError(
                _("attributes must be a JSON object."), status=400, field="attributes"
            )
    for key in request.form:
        if key.startswith("attribute[") and key.endswith("]"):
            values = request.form.getlist(key)
            answers[key[len("attribute[") : -1]] = values if len(values) > 1 else values[0]
        elif key.startswith("attribute[") and key.endswith("][]"):
            answers[key[len("attribute[") : -3]] = request.form.getlist(key)
    return answers


def _flag(raw: str | None, *, default: bool) -> bool:
    """A checkbox-like form field: absent means ``default``; "0", "false", "off", "" mean no."""
    if raw is None:
        return default
    return raw.strip().lower() not in ("0", "false", "off", "no", "")


@bp.post("/requests")
@public
@limiter.limit(_anonymous_limit, key_func=_device_rate_key, exempt_when=_signed_in)
@limiter.limit(_anonymous_limit, key_func=_address_rate_key, exempt_when=_signed_in)
@limiter.limit(
    limits.submit_account_limit,
    key_func=limits.submit_account_key,
    exempt_when=limits.not_signed_in,
)
@operation(
    tags=["requests"],
    headers=CreateRequestHeaders,
    form=CreateRequestForm,
    success=(201, 200),
    returns=RequestOne,
)
def create_request():
    """Create a request from the app's outbox (multipart), exactly once per Idempotency-Key.

    A signed-in liaison logs for a neighbor: the request's channel is "liaison", it is
    logged by the liaison, has no requester (the neighbor's contact details are the
    contact fields) and may be flagged as a community issue.

    201 + Location for a new request; 200 with the original for a replay; 422 when the
    key was used for a different report; 400 when the key is missing or malformed.
    """
    client_uuid = requests_domain.normalise_client_uuid(inputs().headers.idempotency_key)
    checked = inputs().form
    if checked is None:
        raise DomainError(_("Please choose what kind of problem this is."), field="service_code")
    service = known_service(checked.service_code)
    photos = [f.read() for f in request.files.getlist("photos") if f.filename or f.mimetype]
    account = current_account()
    liaison = account if account is not None and account.role == Role.LIAISON else None
    device = None if liaison else current_device(create=account is None)
    notify = _flag(checked.notify, default=True)
    submission = requests_domain.Submission(
        service_code=checked.service_code,
        lat=checked.lat,
        long=checked.long,
        accuracy_m=checked.accuracy,
        description=checked.description,
        attributes=_attributes_from_form(checked),
        address=checked.address or None,
        landmark=checked.landmark or None,
        contact_name=checked.contact_name or None,
        contact_email=checked.contact_email or None,
        contact_phone=checked.contact_phone or None,
        channel=Channel.LIAISON if liaison else Channel.PWA,
        client_uuid=client_uuid,
        device_captured_at=_parse_datetime(checked.captured_at),
        requester=None if liaison else account,
        device=device,
        logged_by=liaison,
        community_issue=bool(liaison) and _flag(checked.community_issue, default=False),
        follow=notify and not liaison,
        photos=photos,
        service=service,
    )
    result = requests_domain.submit(submission)
    if result.created or device_handover.adopt_unreceived_device(result.request, device):
        answered = load_public_record(result.request)
    else:
        answered = result.request  # a replay arrives with its record loaded
    body = request_json(answered, timeline=True)
    location = url_for("api.get_request", public_id=answered.public_id)
    return envelope(
        body,
        status=201 if result.created else 200,
        meta={"created": result.created},
        headers={"Location": location},
    )
