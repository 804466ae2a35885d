"""POST /api/v1/staff/requests: a request logged for a caller by city staff or desk software.

The same rules as the app (``domain.desk`` → ``domain.requests.submit``); the caller's
contact fields are private. JSON or multipart (``photos`` files); an optional
``Idempotency-Key`` header makes a retried call return the original request.
"""

from __future__ import annotations

import json

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access import roles_required
from webapp.api import bp
from webapp.api.envelope import envelope
from webapp.api.staff_views import staff_request_json
from webapp.domain import desk
from webapp.domain import requests as requests_domain
from webapp.domain.errors import DomainError

TRUE_WORDS = ("1", "true", "yes", "on")


def _input() -> tuple[dict, list[bytes]]:
    """The body as a dict (JSON object or form fields) and any uploaded photos."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise DomainError(_("The body must be a JSON object."), status=400)
        return data, []
    data = request.form.to_dict()
    if data.get("attributes"):
        try:
            data["attributes"] = json.loads(data["attributes"])
        except ValueError:
            raise DomainError(
                _("attributes must be a JSON object."), status=400, field="attributes"
            ) from None
    for key in request.form:
        if key.startswith("attribute[") and key.endswith("]"):
            data.setdefault("attributes", {})[key[len("attribute[") : -1]] = request.form[key]
    photos = [f.read() for f in request.files.getlist("photos") if f.filename or f.mimetype]
    return data, photos


def _number(data: dict, name: str) -> float | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise DomainError(
            _("%(name)s must be a number.", name=name), status=400, field=name
        ) from None


@bp.post("/staff/requests")
@roles_required("staff")
def staff_create_request():
    """Log a request for a caller (``channel`` phone, walk_in or email)."""
    data, photos = _input()
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise DomainError(_("attributes must be a JSON object."), status=400, field="attributes")
    key = request.headers.get("Idempotency-Key")
    result = desk.log_request(
        current_user,
        channel=str(data.get("channel") or ""),
        service_code=str(data.get("service_code") or ""),
        lat=_number(data, "lat"),
        long=_number(data, "long"),
        description=str(data.get("description") or ""),
        attributes=attributes,
        address=data.get("address") or None,
        landmark=data.get("landmark") or None,
        caller=desk.Caller(
            name=data.get("caller_name"),
            email=data.get("caller_email"),
            phone=data.get("caller_phone"),
            address=data.get("caller_address"),
        ),
        client_uuid=requests_domain.normalise_client_uuid(key) if key else None,
        photos=photos,
        confirm_by_email=str(data.get("confirm_by_email", "")).lower() in TRUE_WORDS,
    )
    return envelope(
        staff_request_json(result.request),
        status=201 if result.created else 200,
        meta={"created": result.created},
        headers={"Location": url_for("api.get_request", public_id=result.request.public_id)},
    )
