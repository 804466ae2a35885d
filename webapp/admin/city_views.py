"""City settings: what the city pack set (read-only here: the pack owns it) and the
checks that matter before going live."""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import func, select

from webapp.admin.blueprint import bp
from webapp.citypack.checks import go_live_checks
from webapp.models import CitySettings, Department, Neighborhood, Service, ServiceRequest
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db


@bp.get("/city")
@roles_required("admin")
def city_settings():
    """The pack's settings and the go-live checks, each green or red with what to do."""
    row = db.session.get(CitySettings, 1)
    counts = {
        "services": db.session.scalar(
            select(func.count(Service.id)).where(Service.active.is_(True))
        ),
        "departments": db.session.scalar(select(func.count(Department.id))),
        "neighborhoods": db.session.scalar(select(func.count(Neighborhood.id))),
        "imported": db.session.scalar(
            select(func.count(ServiceRequest.id)).where(ServiceRequest.import_source.is_not(None))
        ),
    }
    checks = go_live_checks()
    return render_template(
        "admin/city.html",
        pack=row,
        config=current_app.config,
        counts=counts,
        checks=checks,
        failing=sum(1 for c in checks if not c.ok),
    )
