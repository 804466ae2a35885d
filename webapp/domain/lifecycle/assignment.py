"""Assignment: staff give a request to a department and/or a person.

A private timeline entry. Its ``Assigned`` event says whether the request moved to another
department (the city's CRM hears of it once) and who was just given it (they get one
staff alert); the channels act on that, not this module.
"""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.domain import events
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle.timeline import record
from webapp.models import EventKind, RequestEvent, ServiceRequest, User


def assign(
    request: ServiceRequest,
    actor: User,
    *,
    department_id: int | None = None,
    assignee: User | None = None,
) -> RequestEvent:
    """Give the request to a department and/or a person (a private timeline entry)."""
    if request.is_closed:
        raise NotAllowed(_("A closed request cannot be assigned."))
    if assignee is not None and not assignee.is_staff:
        raise DomainError(_("Requests can only be assigned to city staff."), field="assignee")
    moved = department_id is not None and department_id != request.department_id
    previous = request.assignee_id
    if department_id is not None:
        request.department_id = department_id
    request.assignee = assignee
    data = {
        "department_id": request.department_id,
        "assignee": assignee.display_name if assignee else None,
    }
    newly_assigned = assignee if assignee is not None and assignee.id != previous else None
    return record(
        request,
        EventKind.ASSIGNED,
        actor=actor,
        public=False,
        data=data,
        announce=lambda entry: events.Assigned(entry, moved=moved, newly_assigned=newly_assigned),
    )
