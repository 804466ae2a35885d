"""Admin home."""

from flask import render_template
from sqlalchemy import func, select

from webapp.access import roles_required
from webapp.admin import bp
from webapp.extensions import db
from webapp.models import Department, Service, User


@bp.get("/")
@roles_required("admin")
def index():
    """Counts of what an admin manages."""
    counts = {
        "services": db.session.scalar(select(func.count(Service.id))),
        "departments": db.session.scalar(select(func.count(Department.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }
    return render_template("admin/index.html", counts=counts)
