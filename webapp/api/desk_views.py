"""POST /api/v1/staff/requests: a request logged for a caller by city staff or desk software.

The same rules as the app (``domain.desk`` → ``domain.requests.submit``); the caller's
contact fields are private. JSON or multipart (``photos`` files); an optional
``Idempotency-Key`` header makes a retried call return the original request.
"""

from __future__ import annotations

import json
import math

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import StaffLogBody, StaffLogForm, StaffLogHeaders
from webapp.api.responses import StaffRequestAnswer
from webapp.api.schema import body, inputs, operation
from webapp.api.services_views import known_service
from webapp.api.staff_views import staff_request_json
from webapp.domain.errors import DomainError
from webapp.domain.intake import desk
from webapp.domain.lifecycle import submission as requests_domain
from webapp.plumbing.access import roles_required

TRUE_WORDS = ("1", "true", "yes", "on")


def _attributes(data: StaffLogBody) -> dict:
    """The answers: a JSON object, its text (a form), and ``attribute[code]`` form fields."""
    attributes = data.attributes
    if isinstance(attributes, str):
        if attributes.strip():
            try:
                attributes = json.loads(attributes)
            except ValueError:
                raise DomainError(
                    _("attributes must be a JSON object."), status=400, field="attributes"
                ) from None
        else:
            attributes = None
    attributes = attributes or {}
    if not isinstance(attributes, dict):
        raise DomainError(_("attributes must be a JSON object."), status=400, field="attributes")
    for key in request.form:
        if key.startswith("attribute[") and key.endswith("]"):
            attributes[key[len("attribute[") : -1]] = request.form[key]
    return attributes


def _number(raw: float | str | None, name: str) -> float | None:
    """A coordinate sent as a number or as its decimal text; 400 for anything else."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise DomainError(_("%(name)s must be a number.", name=name), status=400, field=name)
    return value


@bp.post("/staff/requests")
@roles_required("staff")
@operation(
    tags=["staff"],
    headers=StaffLogHeaders,
    json=StaffLogBody,
    form=StaffLogForm,
    success=(201, 200),
    returns=StaffRequestAnswer,
)
def staff_create_request():
    """Staff: log a request for a caller (phone, walk-in or e-mail); the contact is private."""
    data = body()
    known_service(data.service_code, include_private=True)
    photos = [f.read() for f in request.files.getlist("photos") if f.filename or f.mimetype]
    key = inputs().headers.idempotency_key
    result = desk.log_request(
        current_user,
        channel=data.channel,
        service_code=data.service_code,
        lat=_number(data.lat, "lat"),
        long=_number(data.long, "long"),
        description=data.description or "",
        attributes=_attributes(data),
        address=data.address or None,
        landmark=data.landmark or None,
        caller=desk.Caller(
            name=data.caller_name,
            email=data.caller_email,
            phone=data.caller_phone,
            address=data.caller_address,
        ),
        client_uuid=requests_domain.normalise_client_uuid(key) if key else None,
        photos=photos,
        confirm_by_email=str(data.confirm_by_email or "").lower() in TRUE_WORDS,
    )
    return envelope(
        staff_request_json(result.request),
        status=201 if result.created else 200,
        meta={"created": result.created},
        headers={"Location": url_for("api.get_request", public_id=result.request.public_id)},
    )
