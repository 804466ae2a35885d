"""Staff actions through the JSON API: transition, assign, note, merge (DESIGN §7).

The same rules as the staff console (``webapp.domain.requests``); refusals come back
in the API's one error shape (the central DomainError handler rolls back). Answers
carry the staff view of the request, including private fields, since only staff call
these routes.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from webapp.access import roles_required
from webapp.api import bp, openapi
from webapp.api.envelope import envelope
from webapp.api.serialize import request_json
from webapp.domain import requests as requests_domain
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import Department, User, w3c


def _body() -> dict:
    """The JSON body, or form fields; a non-object body is a 400."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise DomainError(_("The body must be a JSON object."), status=400)
        return data
    return request.form.to_dict()


def staff_request_json(req) -> dict:
    """The public shape plus what staff need: assignment, contact and the whole timeline."""
    body = request_json(req)
    body.update(
        assignee=req.assignee.display_name if req.assignee else None,
        department_id=req.department_id,
        contact_name=req.contact_name,
        contact_email=req.contact_email,
        contact_phone=req.contact_phone,
        reopen_count=req.reopen_count,
        timeline=[
            {
                "kind": e.kind,
                "public": e.public,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "actor": e.actor.display_name if e.actor else None,
                "at": w3c(e.created_at),
            }
            for e in req.events
        ],
    )
    return body


def _done(req):
    db.session.commit()
    return envelope(staff_request_json(req))


@bp.post("/staff/requests/<public_id>/transition")
@roles_required("staff")
def staff_transition(public_id: str):
    """Move a request to ``status`` (closing needs ``resolution`` and a public ``note``)."""
    data = _body()
    req = requests_domain.get_by_public_id(public_id)
    survivor = None
    if data.get("duplicate_of"):
        survivor = requests_domain.get_by_public_id(str(data["duplicate_of"]))
    requests_domain.transition(
        req,
        str(data.get("status", "")),
        current_user,
        note=data.get("note"),
        resolution=data.get("resolution"),
        referred_to=data.get("referred_to"),
        duplicate_of=survivor,
    )
    return _done(req)


def _optional_id(data: dict, name: str) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise DomainError(_("%(name)s must be a number.", name=name), status=400) from None


@bp.post("/staff/requests/<public_id>/assign")
@roles_required("staff")
def staff_assign(public_id: str):
    """Assign to a department (``department_id``) and/or a person (``assignee_id``)."""
    data = _body()
    req = requests_domain.get_by_public_id(public_id)
    department_id = _optional_id(data, "department_id")
    assignee_id = _optional_id(data, "assignee_id")
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise DomainError(_("That department does not exist."), field="department_id")
    assignee = db.session.get(User, assignee_id) if assignee_id is not None else None
    if assignee_id is not None and assignee is None:
        raise DomainError(_("That person does not exist."), field="assignee_id")
    requests_domain.assign(req, current_user, department_id=department_id, assignee=assignee)
    return _done(req)


@bp.post("/staff/requests/<public_id>/notes")
@roles_required("staff")
def staff_note(public_id: str):
    """Add a note; ``public`` true shows it to the resident, otherwise staff only."""
    data = _body()
    req = requests_domain.get_by_public_id(public_id)
    public = str(data.get("public", "")).lower() in ("1", "true", "yes", "on")
    requests_domain.add_note(req, current_user, str(data.get("note", "")), public=public)
    return _done(req)


@bp.post("/staff/requests/<public_id>/merge")
@roles_required("staff")
def staff_merge(public_id: str):
    """Merge this request into ``survivor`` (a public id): followers move over."""
    data = _body()
    req = requests_domain.get_by_public_id(public_id)
    if not data.get("survivor"):
        raise DomainError(_("Please give the request to keep."), field="survivor")
    survivor = requests_domain.get_by_public_id(str(data["survivor"]))
    requests_domain.merge(req, survivor, current_user, note=data.get("note"))
    return _done(req)


def _json_body(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "multipart/form-data": {"schema": schema},
        },
    }


def _staff_op(summary: str, body: dict) -> dict:
    return {
        "post": {
            "summary": summary,
            "tags": ["staff"],
            "parameters": [openapi.PUBLIC_ID, openapi.WRITE_HEADER],
            "requestBody": body,
            "responses": {
                "200": {"$ref": "#/components/responses/Ok"},
                "401": openapi.ERROR_REF,
                "403": openapi.ERROR_REF,
                "404": openapi.ERROR_REF,
                "409": openapi.ERROR_REF,
                "422": openapi.ERROR_REF,
                "default": openapi.ERROR_REF,
            },
        }
    }


openapi.register_path(
    "/api/v1/staff/requests/{public_id}/transition",
    _staff_op(
        "Staff: move a request along the workflow",
        _json_body(
            {
                "status": {"type": "string", "enum": ["acknowledged", "in_progress", "closed"]},
                "note": {"type": "string", "description": "Public note; required to close"},
                "resolution": {
                    "type": "string",
                    "enum": ["fixed", "duplicate", "referred", "cannot_locate", "no_action_needed"],
                },
                "referred_to": {"type": "string"},
                "duplicate_of": {"type": "string", "description": "Public id of the survivor"},
            },
            ["status"],
        ),
    ),
)
openapi.register_path(
    "/api/v1/staff/requests/{public_id}/assign",
    _staff_op(
        "Staff: assign to a department and/or a person",
        _json_body({"department_id": {"type": "integer"}, "assignee_id": {"type": "integer"}}, []),
    ),
)
openapi.register_path(
    "/api/v1/staff/requests/{public_id}/notes",
    _staff_op(
        "Staff: add a public or private note",
        _json_body({"note": {"type": "string"}, "public": {"type": "boolean"}}, ["note"]),
    ),
)
openapi.register_path(
    "/api/v1/staff/requests/{public_id}/merge",
    _staff_op(
        "Staff: merge this request into another (followers move over)",
        _json_body({"survivor": {"type": "string"}, "note": {"type": "string"}}, ["survivor"]),
    ),
)
