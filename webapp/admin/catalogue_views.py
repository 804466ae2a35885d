"""Administration of the service catalogue: services, their questions (Open311
attributes), and the response templates staff start their notes from.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.admin import forms as admin_forms
from webapp.admin import pages
from webapp.admin.blueprint import bp
from webapp.domain.errors import DomainError
from webapp.domain.glossary import status_word
from webapp.domain.people import administration
from webapp.models import ResponseTemplate, Service
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db
from webapp.wording import datatype_label


@bp.route("/services", methods=["GET", "POST"])
@roles_required("admin")
def services():
    """List services and add one."""
    form = admin_forms.ServiceForm()
    form.department_id.choices = pages.optional_choices(_("None"), pages.departments_by_name())
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_service(pages.form_values(form)), _("Service saved."), form
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
    return pages.admin_page(
        title=_("Services"),
        headers=[_("Code"), _("Name"), _("Department"), _("SLA days"), _("Active"), _("Public")],
        rows=rows,
        forms=[(_("Add a service"), form, url_for("admin.services"), False)],
    )


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required("admin")
def service(service_id: int):
    """Edit a service; list, add and remove its questions (Open311 attributes)."""
    item = pages.found_or_404(Service, service_id)
    form = admin_forms.ServiceForm(obj=item)
    form.department_id.choices = pages.optional_choices(_("None"), pages.departments_by_name())
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_service(pages.form_values(form), service=item),
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
    return pages.admin_page(
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
    item = pages.found_or_404(Service, service_id)
    form = admin_forms.AttributeForm()
    if form.validate_on_submit():
        pages.saved(
            lambda: administration.add_attribute(item, pages.form_values(form)),
            _("Question added."),
        )
    else:
        flash(_("Please fill in the code and the question."), "error")
    return redirect(url_for("admin.service", service_id=item.id))


@bp.route("/services/<int:service_id>/attributes/<int:attribute_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_attribute(service_id: int, attribute_id: int):
    """Change an existing question of a service."""
    item = pages.found_or_404(Service, service_id)
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
    if form.validate_on_submit() and pages.saved(
        lambda: administration.update_attribute(item, attribute_id, pages.form_values(form)),
        _("Question saved."),
        form,
    ):
        return redirect(url_for("admin.service", service_id=item.id))
    return pages.admin_page(
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
    item = pages.found_or_404(Service, service_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        pages.saved(lambda: administration.remove_attribute(item, attribute_id), _("Question removed."))
    return redirect(url_for("admin.service", service_id=item.id))


@bp.route("/templates", methods=["GET", "POST"])
@roles_required("admin")
def templates():
    """Response templates staff start notes from, per service and status."""
    form = admin_forms.TemplateForm()
    form.service_id.choices = pages.optional_choices(
        _("All services"), db.session.scalars(select(Service).order_by(Service.name))
    )
    if form.validate_on_submit() and pages.saved(
        lambda: administration.save_template(pages.form_values(form)),
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
    return pages.admin_page(
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
    item = pages.found_or_404(ResponseTemplate, template_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        db.session.delete(item)
        db.session.commit()
        flash(_("Template deleted."))
    return redirect(url_for("admin.templates"))
