"""What every admin page shares: a row or a 404, select options, saving with the refusal
shown on the form, and the one table-and-forms page template.

The rules themselves (unique names, valid polygons, no self-demotion) live in
``webapp.domain.people.administration``; a view here only reads its form, calls one rule
through ``saved`` and chooses the answer.
"""

from __future__ import annotations

from flask import abort, flash, render_template
from sqlalchemy import select

from webapp.admin import forms as admin_forms
from webapp.domain.errors import DomainError
from webapp.models import Department, Neighborhood
from webapp.plumbing.extensions import db


def found_or_404(model, ident: int):
    """The row or a 404."""
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def optional_choices(label: str, rows, name=lambda r: r.name) -> list:
    """Select options: "none" first, then one per row."""
    return admin_forms.choices([("", label)] + [(r.id, name(r)) for r in rows])


def departments_by_name():
    """Every department, by name (for select options)."""
    return db.session.scalars(select(Department).order_by(Department.name)).all()


def neighborhoods_by_name():
    """Every neighborhood, by name (for select options)."""
    return db.session.scalars(select(Neighborhood).order_by(Neighborhood.name)).all()


def saved(action, success: str, form=None) -> bool:
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


def admin_page(**context):
    """The one admin page: a title, a table of rows and the forms below it."""
    context.setdefault("forms", [])
    context.setdefault("rows", [])
    context.setdefault("headers", [])
    return render_template("admin/page.html", **context)


def form_values(form) -> dict:
    """Every field of a form by name, for the administration rule that saves it."""
    return {name: field.data for name, field in form._fields.items()}


def request_is_get() -> bool:
    """True on a plain page load (not a form post)."""
    from flask import request

    return request.method == "GET"
