"""Staff views. The queue lists open requests, oldest first."""

from flask import render_template
from sqlalchemy import select

from webapp.access import roles_required
from webapp.extensions import db
from webapp.models import ServiceRequest, Status
from webapp.staff import bp


@bp.get("/")
@roles_required("staff")
def queue():
    """Open requests, oldest first."""
    rows = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.detailed_status != Status.CLOSED)
        .order_by(ServiceRequest.received_at)
        .limit(100)
    ).all()
    return render_template("staff/queue.html", requests=rows)
