"""Administration: services and their questions, departments, neighborhoods, accounts
and roles, Open311 API keys, response templates.

Each page is a table of what exists and a form to add or change it; the rules (unique
names, valid polygons, no self-demotion) live in ``webapp.domain.people.administration``.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp.admin import forms as admin_forms
from webapp.admin.blueprint import bp
from webapp.domain.errors import DomainError
from webapp.domain.glossary import status_word
from webapp.domain.people import accounts, administration, api_keys
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
from webapp.wording import datatype_label


def _get(model, ident: int):
    """The row or a 404."""
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def _optional(label: str, rows, name=lambda r: r.name) -> list:
    """Select options: "none" first, then one per row."""
    return admin_forms.choices([("", label)] + [(r.id, name(r)) for r in rows])


def _departments():
    return db.session.scalars(select(Department).order_by(Department.name)).all()


def _neighborhoods():
    return db.session.scalars(select(Neighborhood).order_by(Neighborhood.name)).all()


def _save(action, success: str, form=None) -> bool:
    """Run ``action`` and commit; a refusal is rolled back and shown on the form."""
    try:
        action()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        target = getattr(form, error.field, None) if form is not None and error.field else None
        if target is not None:
            target.errors = list(target.errors) + [error.message]
        flash(error.message, "error")
        return False
    flash(success)
    return True


def _page(**context):
    context.setdefault("forms", [])
    context.setdefault("rows", [])
    context.setdefault("headers", [])
    return render_template("admin/page.html", **context)


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
    if form.validate_on_submit() and _save(
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
        for d in _departments()
    ]
    return _page(
        title=_("Departments"),
        headers=[_("Name"), _("Email"), _("Phone")],
        rows=rows,
        forms=[(_("Add a department"), form, url_for("admin.departments"), False)],
    )


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@roles_required("admin")
def department(department_id: int):
    """Rename a department or change its contact details."""
    item = _get(Department, department_id)
    form = admin_forms.DepartmentForm(obj=item)
    if form.validate_on_submit() and _save(
        lambda: administration.save_department(
            form.name.data, form.email.data, form.phone.data, department=item
        ),
        _("Department saved."),
        form,
    ):
        return redirect(url_for("admin.departments"))
    return _page(
        title=item.name,
        back=url_for("admin.departments"),
        forms=[
            (_("Edit department"), form, url_for("admin.department", department_id=item.id), False)
        ],
    )


def _service_values(form) -> dict:
    return {name: field.data for name, field in form._fields.items()}


@bp.route("/services", methods=["GET", "POST"])
@roles_required("admin")
def services():
    """List services and add one."""
    form = admin_forms.ServiceForm()
    form.department_id.choices = _optional(_("None"), _departments())
    if form.validate_on_submit() and _save(
        lambda: administration.save_service(_service_values(form)), _("Service saved."), form
    ):
        return redirect(url_for("admin.services"))
    rows = [
        {
            "cells": [
                s.service_code,
                s.name,
                s.department.name if s.department else "",
                s.sla_days or "",
                _("yes") if s.active else _("no"),
                _("yes") if s.public else _("no"),
            ],
            "url": url_for("admin.service", service_id=s.id),
        }
        for s in db.session.scalars(select(Service).order_by(Service.name))
    ]
    return _page(
        title=_("Services"),
        headers=[_("Code"), _("Name"), _("Department"), _("SLA days"), _("Active"), _("Public")],
        rows=rows,
        forms=[(_("Add a service"), form, url_for("admin.services"), False)],
    )


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required("admin")
def service(service_id: int):
    """Edit a service; list, add and remove its questions (Open311 attributes)."""
    item = _get(Service, service_id)
    form = admin_forms.ServiceForm(obj=item)
    form.department_id.choices = _optional(_("None"), _departments())
    if form.validate_on_submit() and _save(
        lambda: administration.save_service(_service_values(form), service=item),
        _("Service saved."),
        form,
    ):
        return redirect(url_for("admin.service", service_id=item.id))
    attribute_form = admin_forms.AttributeForm(formdata=None)
    rows = [
        {
            "cells": [
                a.code,
                a.description,
                datatype_label(a.datatype),
                _("yes") if a.required else _("no"),
            ],
            "url": url_for("admin.edit_attribute", service_id=item.id, attribute_id=a.id),
            "actions": [
                (
                    _("Remove"),
                    url_for("admin.remove_attribute", service_id=item.id, attribute_id=a.id),
                )
            ],
        }
        for a in item.attributes
    ]
    return _page(
        title=item.name,
        back=url_for("admin.services"),
        headers=[_("Code"), _("Question"), _("Type"), _("Required")],
        rows=rows,
        table_caption=_("Questions"),
        forms=[
            (_("Edit service"), form, url_for("admin.service", service_id=item.id), False),
            (
                _("Add a question"),
                attribute_form,
                url_for("admin.add_attribute", service_id=item.id),
                False,
            ),
        ],
        confirm_form=admin_forms.ConfirmForm(formdata=None),
    )


@bp.post("/services/<int:service_id>/attributes")
@roles_required("admin")
def add_attribute(service_id: int):
    """Add a question to a service."""
    item = _get(Service, service_id)
    form = admin_forms.AttributeForm()
    if form.validate_on_submit():
        _save(
            lambda: administration.add_attribute(item, _service_values(form)),
            _("Question added."),
        )
    else:
        flash(_("Please fill in the code and the question."), "error")
    return redirect(url_for("admin.service", service_id=item.id))


@bp.route("/services/<int:service_id>/attributes/<int:attribute_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_attribute(service_id: int, attribute_id: int):
    """Change an existing question of a service."""
    item = _get(Service, service_id)
    try:
        attribute = administration.find_attribute(item, attribute_id)
    except DomainError:
        abort(404)
    form = admin_forms.AttributeForm(
        data={
            "code": attribute.code,
            "description": attribute.description,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "values": administration.values_text(attribute),
        }
    )
    form.submit.label.text = _("Save question")
    if form.validate_on_submit() and _save(
        lambda: administration.update_attribute(item, attribute_id, _service_values(form)),
        _("Question saved."),
        form,
    ):
        return redirect(url_for("admin.service", service_id=item.id))
    return _page(
        title=_("Question: %(question)s", question=attribute.description or attribute.code),
        back=url_for("admin.service", service_id=item.id),
        forms=[
            (
                _("Edit the question"),
                form,
                url_for("admin.edit_attribute", service_id=item.id, attribute_id=attribute_id),
                False,
            )
        ],
    )


@bp.post("/services/<int:service_id>/attributes/<int:attribute_id>/delete")
@roles_required("admin")
def remove_attribute(service_id: int, attribute_id: int):
    """Remove a question from a service."""
    item = _get(Service, service_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        _save(lambda: administration.remove_attribute(item, attribute_id), _("Question removed."))
    return redirect(url_for("admin.service", service_id=item.id))


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
    if form.validate_on_submit() and _save(
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
        for n in _neighborhoods()
    ]
    return _page(
        title=_("Neighborhoods"),
        headers=[_("Name"), _("Bounding box")],
        rows=rows,
        forms=[(_("Add a neighborhood"), form, url_for("admin.neighborhoods"), True)],
    )


@bp.route("/neighborhoods/<int:neighborhood_id>", methods=["GET", "POST"])
@roles_required("admin")
def neighborhood(neighborhood_id: int):
    """Rename a neighborhood or replace its shape."""
    item = _get(Neighborhood, neighborhood_id)
    form = admin_forms.NeighborhoodForm(obj=item)
    if form.validate_on_submit() and _save(
        lambda: administration.save_neighborhood(
            form.name.data, _uploaded_polygon(form), neighborhood=item
        ),
        _("Neighborhood saved."),
        form,
    ):
        return redirect(url_for("admin.neighborhoods"))
    return _page(
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


def _user_choices(form) -> None:
    form.neighborhood_id.choices = _optional(_("None"), _neighborhoods())
    form.department_id.choices = _optional(_("None"), _departments())


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    """List accounts and create a staff, liaison or admin account."""
    form = admin_forms.NewUserForm()
    _user_choices(form)
    if form.validate_on_submit() and _save(
        lambda: accounts.create_user(
            form.email.data,
            form.password.data,
            form.display_name.data,
            form.role.data,
            neighborhood_id=form.neighborhood_id.data,
            department_id=form.department_id.data,
        ),
        _("Account created. Give the person their temporary password in person."),
        form,
    ):
        return redirect(url_for("admin.users"))
    rows = [
        {
            "cells": [
                u.display_name,
                u.email,
                admin_forms.ROLE_LABELS.get(u.role, u.role),
                u.neighborhood.name if u.neighborhood else "",
                _("active") if u.active else _("deactivated"),
            ],
            "url": url_for("admin.user", user_id=u.id),
        }
        for u in db.session.scalars(select(User).order_by(User.role.desc(), User.display_name))
    ]
    return _page(
        title=_("Accounts and roles"),
        headers=[_("Name"), _("Email"), _("Role"), _("Neighborhood"), _("State")],
        rows=rows,
        forms=[(_("Create an account"), form, url_for("admin.users"), False)],
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    """Change an account's role, neighborhood, department, or deactivate it."""
    item = _get(User, user_id)
    form = admin_forms.EditUserForm(obj=item)
    _user_choices(form)
    if form.validate_on_submit() and _save(
        lambda: administration.update_user(
            item,
            current_user,
            role=form.role.data,
            active=form.active.data,
            neighborhood_id=form.neighborhood_id.data,
            department_id=form.department_id.data,
            supervisor=form.supervisor.data,
        ),
        _("Account saved."),
        form,
    ):
        return redirect(url_for("admin.users"))
    return _page(
        title=f"{item.display_name} ({item.email})",
        back=url_for("admin.users"),
        forms=[(_("Edit account"), form, url_for("admin.user", user_id=item.id), False)],
    )


@bp.route("/api-keys", methods=["GET", "POST"])
@roles_required("admin")
def keys():
    """List Open311 API keys and issue one (the key is shown once, then only its hash
    is kept)."""
    form = admin_forms.ApiKeyForm()
    secret = None
    if form.validate_on_submit():
        secret, _record = api_keys.issue(form.name.data, owner=current_user)
        db.session.commit()
        flash(_("Key issued. Copy it now: it will not be shown again."))
        form = admin_forms.ApiKeyForm(formdata=None)
    rows = [
        {
            "cells": [
                k.name,
                k.prefix + "…",
                k.created_at.date().isoformat(),
                _("revoked") if k.revoked else _("active"),
            ],
            "actions": []
            if k.revoked
            else [(_("Revoke"), url_for("admin.revoke_key", key_id=k.id))],
        }
        for k in db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc()))
    ]
    response = _page(
        title=_("Open311 API keys"),
        headers=[_("Name"), _("Starts with"), _("Issued"), _("State")],
        rows=rows,
        secret=secret,
        forms=[(_("Issue a key"), form, url_for("admin.keys"), False)],
        confirm_form=admin_forms.ConfirmForm(formdata=None),
    )
    if secret:
        response = make_response(response)
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api-keys/<int:key_id>/revoke")
@roles_required("admin")
def revoke_key(key_id: int):
    """Stop accepting a key."""
    item = _get(ApiKey, key_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        api_keys.revoke(item)
        db.session.commit()
        flash(_("Key revoked."))
    return redirect(url_for("admin.keys"))


@bp.route("/templates", methods=["GET", "POST"])
@roles_required("admin")
def templates():
    """Response templates staff start notes from, per service and status."""
    form = admin_forms.TemplateForm()
    form.service_id.choices = _optional(
        _("All services"), db.session.scalars(select(Service).order_by(Service.name))
    )
    if form.validate_on_submit() and _save(
        lambda: administration.save_template(_service_values(form)),
        _("Template saved."),
        form,
    ):
        return redirect(url_for("admin.templates"))
    rows = [
        {
            "cells": [
                t.title,
                db.session.get(Service, t.service_id).name if t.service_id else _("All services"),
                status_word(t.status) if t.status else _("Any"),
            ],
            "actions": [(_("Delete"), url_for("admin.delete_template", template_id=t.id))],
        }
        for t in db.session.scalars(select(ResponseTemplate).order_by(ResponseTemplate.title))
    ]
    return _page(
        title=_("Response templates"),
        headers=[_("Title"), _("Service"), _("Status")],
        rows=rows,
        forms=[(_("Add a template"), form, url_for("admin.templates"), False)],
        confirm_form=admin_forms.ConfirmForm(formdata=None),
    )


@bp.post("/templates/<int:template_id>/delete")
@roles_required("admin")
def delete_template(template_id: int):
    """Delete a response template."""
    item = _get(ResponseTemplate, template_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        db.session.delete(item)
        db.session.commit()
        flash(_("Template deleted."))
    return redirect(url_for("admin.templates"))


def _target_form(item=None):
    form = admin_forms.ForwardTargetForm(obj=item)
    form.department_id.choices = _optional(_("No department"), _departments())
    services = db.session.scalars(select(Service).order_by(Service.name)).all()
    form.service_id.choices = _optional(_("No single service"), services)
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
    if form.validate_on_submit() and _save(
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
    return _page(
        title=_("City CRMs (Open311 forwarding)"),
        headers=[_("Name"), _("For"), _("Endpoint"), _("State"), _("Last problem")],
        rows=rows,
        forms=[(_("Add a CRM"), form, url_for("admin.forwarding_targets"), False)],
    )


@bp.route("/forwarding/<int:target_id>", methods=["GET", "POST"])
@roles_required("admin")
def forwarding_target(target_id: int):
    """Change a CRM's endpoint, key or scope (the key is kept when left empty)."""
    item = _get(ForwardTarget, target_id)
    form = _target_form(item)
    if request_is_get():
        form.api_key.data = ""
    if form.validate_on_submit() and _save(
        lambda: administration.save_forward_target(_target_values(form), target=item),
        _("CRM saved."),
        form,
    ):
        return redirect(url_for("admin.forwarding_targets"))
    return _page(
        title=item.name,
        back=url_for("admin.forwarding_targets"),
        forms=[(_("Edit CRM"), form, url_for("admin.forwarding_target", target_id=item.id), False)],
    )


def request_is_get() -> bool:
    """True on a plain page load (not a form post)."""
    from flask import request

    return request.method == "GET"
