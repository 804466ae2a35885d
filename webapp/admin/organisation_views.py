"""Administration of how the city is organised: the admin's index with counts, departments,
neighborhoods (with their polygons), and the city CRMs departments forward to.

Each page is a table of what exists and a form to add or change it.
"""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.admin import forms as admin_forms
from webapp.admin import pages
from webapp.admin.blueprint import bp
from webapp.domain.people import administration
from webapp.models import (
    ApiKey,
    Department,
    ForwardTarget,
    Neighborhood,
    ResponseTemplate,
    Service,
    User,
)
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db


@bp.get("/")
@roles_required("admin")
def index():
    """What an admin manages, with counts."""
    counts = {
        "services": db.session.scalar(select(func.count(Service.id))),
        "departments": db.session.scalar(select(func.count(Department.id))),
        "neighborhoods": db.session.scalar(select(func.count(Neighborhood.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "api_keys": db.session.scalar(
            select(func.count(ApiKey.id)).where(ApiKey.revoked_at.is_(None))
        ),
        "templates": db.session.scalar(select(func.count(ResponseTemplate.id))),
    }
    return render_template("admin/index.html", counts=counts)


@bp.route("/departments", methods=["GET", "POST"])
@roles_required("admin")
def departments():
    """List departments and add one."""
    form = admin_forms.DepartmentForm()
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_department(form.name.data, form.email.data, form.phone.data),
        _("Department saved."),
        form,
    ):
        return redirect(url_for("admin.departments"))
    rows = [
        {
            "cells": [d.name, d.email or "", d.phone or ""],
            "url": url_for("admin.department", department_id=d.id),
        }
        for d in pages.departments_by_name()
    ]
    return pages.admin_page(
        title=_("Departments"),
        headers=[_("Name"), _("Email"), _("Phone")],
        rows=rows,
        forms=[(_("Add a department"), form, url_for("admin.departments"), False)],
    )


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@roles_required("admin")
def department(department_id: int):
    """Rename a department or change its contact details."""
    item = pages.found_or_404(Department, department_id)
    form = admin_forms.DepartmentForm(obj=item)
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_department(
            form.name.data, form.email.data, form.phone.data, department=item
        ),
        _("Department saved."),
        form,
    ):
        return redirect(url_for("admin.departments"))
    return pages.admin_page(
        title=item.name,
        back=url_for("admin.departments"),
        forms=[
            (_("Edit department"), form, url_for("admin.department", department_id=item.id), False)
        ],
    )


def _uploaded_polygon(form) -> dict | None:
    upload = form.geojson.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return administration.parse_polygon(upload.read())


@bp.route("/neighborhoods", methods=["GET", "POST"])
@roles_required("admin")
def neighborhoods():
    """List neighborhoods and add one from a GeoJSON file."""
    form = admin_forms.NeighborhoodForm()
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_neighborhood(form.name.data, _uploaded_polygon(form)),
        _("Neighborhood saved."),
        form,
    ):
        return redirect(url_for("admin.neighborhoods"))
    rows = [
        {
            "cells": [
                n.name,
                f"{n.min_lat:.4f}, {n.min_long:.4f} – {n.max_lat:.4f}, {n.max_long:.4f}",
            ],
            "url": url_for("admin.neighborhood", neighborhood_id=n.id),
        }
        for n in pages.neighborhoods_by_name()
    ]
    return pages.admin_page(
        title=_("Neighborhoods"),
        headers=[_("Name"), _("Bounding box")],
        rows=rows,
        forms=[(_("Add a neighborhood"), form, url_for("admin.neighborhoods"), True)],
    )


@bp.route("/neighborhoods/<int:neighborhood_id>", methods=["GET", "POST"])
@roles_required("admin")
def neighborhood(neighborhood_id: int):
    """Rename a neighborhood or replace its shape."""
    item = pages.found_or_404(Neighborhood, neighborhood_id)
    form = admin_forms.NeighborhoodForm(obj=item)
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_neighborhood(
            form.name.data, _uploaded_polygon(form), neighborhood=item
        ),
        _("Neighborhood saved."),
        form,
    ):
        return redirect(url_for("admin.neighborhoods"))
    return pages.admin_page(
        title=item.name,
        back=url_for("admin.neighborhoods"),
        forms=[
            (
                _("Edit neighborhood (upload a file only to replace the shape)"),
                form,
                url_for("admin.neighborhood", neighborhood_id=item.id),
                True,
            )
        ],
    )


def _target_form(item=None):
    form = admin_forms.ForwardTargetForm(obj=item)
    form.department_id.choices = pages.optional_choices(_("No department"), pages.departments_by_name())
    services = db.session.scalars(select(Service).order_by(Service.name)).all()
    form.service_id.choices = pages.optional_choices(_("No single service"), services)
    return form


def _target_values(form) -> dict:
    return {name: getattr(form, name).data for name in (
        "name", "department_id", "service_id", "endpoint", "jurisdiction_id", "api_key", "active"
    )}


@bp.route("/forwarding", methods=["GET", "POST"])
@roles_required("admin")
def forwarding_targets():
    """The city's Open311 CRMs that departments' or services' requests are sent to."""
    form = _target_form()
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_forward_target(_target_values(form)),
        _("CRM saved."),
        form,
    ):
        return redirect(url_for("admin.forwarding_targets"))
    targets = db.session.scalars(select(ForwardTarget).order_by(ForwardTarget.name)).all()
    rows = [
        {
            "cells": [
                t.name,
                t.department.name if t.department else (t.service.name if t.service else ""),
                t.endpoint,
                _("active") if t.active else _("off"),
                t.last_error or "",
            ],
            "url": url_for("admin.forwarding_target", target_id=t.id),
        }
        for t in targets
    ]
    return pages.admin_page(
        title=_("City CRMs (Open311 forwarding)"),
        headers=[_("Name"), _("For"), _("Endpoint"), _("State"), _("Last problem")],
        rows=rows,
        forms=[(_("Add a CRM"), form, url_for("admin.forwarding_targets"), False)],
    )


@bp.route("/forwarding/<int:target_id>", methods=["GET", "POST"])
@roles_required("admin")
def forwarding_target(target_id: int):
    """Change a CRM's endpoint, key or scope (the key is kept when left empty)."""
    item = pages.found_or_404(ForwardTarget, target_id)
    form = _target_form(item)
    if pages.request_is_get():
        form.api_key.data = ""
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_forward_target(_target_values(form), target=item),
        _("CRM saved."),
        form,
    ):
        return redirect(url_for("admin.forwarding_targets"))
    return pages.admin_page(
        title=item.name,
        back=url_for("admin.forwarding_targets"),
        forms=[(_("Edit CRM"), form, url_for("admin.forwarding_target", target_id=item.id), False)],
    )
