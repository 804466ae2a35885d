"""Administration of who may do what: accounts and their roles, and Open311 API keys
(shown once when issued, stored hashed, revoked rather than deleted).
"""

from __future__ import annotations

from flask import flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.admin import forms as admin_forms
from webapp.admin import pages
from webapp.admin.blueprint import bp
from webapp.domain.people import accounts, administration, api_keys
from webapp.models import ApiKey, User
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db


def _user_choices(form) -> None:
    form.neighborhood_id.choices = pages.optional_choices(_("None"), pages.neighborhoods_by_name())
    form.department_id.choices = pages.optional_choices(_("None"), pages.departments_by_name())


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    """List accounts and create a staff, liaison or admin account."""
    form = admin_forms.NewUserForm()
    _user_choices(form)
    if form.validate_on_submit() and pages.saved(
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
    return pages.admin_page(
        title=_("Accounts and roles"),
        headers=[_("Name"), _("Email"), _("Role"), _("Neighborhood"), _("State")],
        rows=rows,
        forms=[(_("Create an account"), form, url_for("admin.users"), False)],
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    """Change an account's role, neighborhood, department, or deactivate it."""
    item = pages.found_or_404(User, user_id)
    form = admin_forms.EditUserForm(obj=item)
    _user_choices(form)
    if form.validate_on_submit() and pages.saved(
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
    return pages.admin_page(
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
    response = pages.admin_page(
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
    item = pages.found_or_404(ApiKey, key_id)
    if admin_forms.ConfirmForm().validate_on_submit():
        api_keys.revoke(item)
        db.session.commit()
        flash(_("Key revoked."))
    return redirect(url_for("admin.keys"))
