"""Liaison dashboard: the requests of the liaison's neighborhood."""

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from webapp.access import roles_required
from webapp.extensions import db
from webapp.liaison import bp
from webapp.models import ServiceRequest


@bp.get("/")
@roles_required("liaison")
def dashboard():
    """The liaison's neighborhood at a glance."""
    rows = []
    if current_user.neighborhood_id:
        rows = db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.neighborhood_id == current_user.neighborhood_id)
            .order_by(ServiceRequest.received_at.desc())
            .limit(100)
        ).all()
    return render_template("liaison/dashboard.html", requests=rows)
