"""GET /api/v1/services: the categories a resident can report, with their questions."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.responses import ServiceList
from webapp.api.schema import operation
from webapp.api.serialize import service_json
from webapp.domain.lifecycle import submission
from webapp.models import Service
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db


@bp.get("/services")
@public
@operation(tags=["services"], returns=ServiceList)
def list_services():
    """Active public services, grouped order, with their attributes."""
    services = db.session.scalars(
        select(Service)
        .where(Service.active.is_(True), Service.public.is_(True))
        .options(selectinload(Service.attributes), selectinload(Service.department))
        .order_by(Service.group, Service.name)
    ).all()
    return envelope([service_json(s) for s in services], meta={"count": len(services)})


def known_service(service_code: str, *, include_private: bool = False) -> Service:
    """The service a call names, or 404: a code the document allows may name no service.

    The same test as submitting (active; public unless staff log it); the rules then
    run again inside the submission.
    """
    service = submission.active_service(service_code, include_private=include_private)
    if service is None:
        raise submission.unknown_service(service_code, status=404)
    return service
