"""Staff actions through the JSON API: transition, assign, note, merge (DESIGN §7).

The same rules as the staff console (``webapp.domain.lifecycle.workflow`` and its neighbors); refusals come back
in the API's one error shape (the central DomainError handler rolls back). Answers
carry the staff view of the request, including private fields, since only staff call
these routes.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import PUBLIC_ID_PATH, AssignBody, MergeBody, NoteBody, TransitionBody
from webapp.api.responses import StaffRequestAnswer
from webapp.api.schema import body, operation
from webapp.api.serialize import request_json
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import assignment, merging, workflow
from webapp.domain.lifecycle import requests as requests_domain
from webapp.models import Department, User, w3c
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db


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


def _staff_operation(model):
    """Staff operations take the same fields as JSON or as a form."""
    return operation(
        tags=["staff"], json=model, form=model, path=PUBLIC_ID_PATH, returns=StaffRequestAnswer
    )


@bp.post("/staff/requests/<public_id>/transition")
@roles_required("staff")
@_staff_operation(TransitionBody)
def staff_transition(public_id: str):
    """Staff: move a request to ``status`` (closing needs ``resolution`` and a public ``note``)."""
    data = body()
    req = requests_domain.get_by_public_id(public_id)
    survivor = None
    if data.duplicate_of:
        survivor = requests_domain.get_by_public_id(data.duplicate_of)
    workflow.transition(
        req,
        data.status,
        current_user,
        note=data.note,
        resolution=data.resolution,
        referred_to=data.referred_to,
        duplicate_of=survivor,
    )
    return _done(req)


@bp.post("/staff/requests/<public_id>/assign")
@roles_required("staff")
@_staff_operation(AssignBody)
def staff_assign(public_id: str):
    """Staff: assign to a department (``department_id``) and/or a person (``assignee_id``)."""
    data = body()
    req = requests_domain.get_by_public_id(public_id)
    department_id = data.department_id
    assignee_id = data.assignee_id
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise DomainError(_("That department does not exist."), field="department_id")
    assignee = db.session.get(User, assignee_id) if assignee_id is not None else None
    if assignee_id is not None and assignee is None:
        raise DomainError(_("That person does not exist."), field="assignee_id")
    assignment.assign(req, current_user, department_id=department_id, assignee=assignee)
    return _done(req)


@bp.post("/staff/requests/<public_id>/notes")
@roles_required("staff")
@_staff_operation(NoteBody)
def staff_note(public_id: str):
    """Staff: add a note; ``public`` true shows it to the resident, otherwise staff only."""
    data = body()
    req = requests_domain.get_by_public_id(public_id)
    workflow.add_note(req, current_user, data.note, public=data.public)
    return _done(req)


@bp.post("/staff/requests/<public_id>/merge")
@roles_required("staff")
@_staff_operation(MergeBody)
def staff_merge(public_id: str):
    """Staff: merge this request into ``survivor`` (a public id): followers move over."""
    data = body()
    req = requests_domain.get_by_public_id(public_id)
    if not data.survivor.strip():
        raise DomainError(_("Please give the request to keep."), field="survivor")
    survivor = requests_domain.get_by_public_id(data.survivor.strip())
    merging.merge(req, survivor, current_user, note=data.note)
    return _done(req)
