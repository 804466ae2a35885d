"""Administration of the front door: knowledge answers (with a preview) and the ordered
routing rules. The rules live in ``webapp.domain.intake.answers`` and ``webapp.domain.intake.routing``.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.admin import frontdoor_forms as forms
from webapp.admin import pages
from webapp.admin.blueprint import bp
from webapp.admin.forms import ConfirmForm
from webapp.domain.intake import answers as answers_domain
from webapp.domain.intake import routing
from webapp.models import Answer, Role, RoutingRule, Service, User
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db


def _services():
    return db.session.scalars(select(Service).order_by(Service.name)).all()


def _answer_values(form) -> dict:
    return {
        "title": form.title.data,
        "slug": form.slug.data,
        "summary": form.summary.data,
        "body": form.body.data,
        "keywords": form.keywords.data,
        "service_ids": form.service_ids.data or [],
        "topics": (form.topics.data or "").split(","),
        "published": form.published.data,
    }


def _answer_page(form, item: Answer | None):
    """The answer form; with "Preview" pressed, the rendered answer above it, unsaved."""
    preview = None
    if form.preview.data and form.body.data:
        preview = answers_domain.render(form.body.data)
    action = url_for("admin.answer", answer_id=item.id) if item else url_for("admin.answers")
    return render_template(
        "admin/answer.html",
        form=form,
        item=item,
        preview=preview,
        action=action,
        rows=[] if item else db.session.scalars(select(Answer).order_by(Answer.title)).all(),
    )


@bp.route("/answers", methods=["GET", "POST"])
@roles_required("admin")
def answers():
    """List the answers and write a new one (with a preview before saving)."""
    form = forms.AnswerForm()
    form.service_ids.choices = [(s.id, s.name) for s in _services()]
    if (
        not form.preview.data
        and form.validate_on_submit()
        and pages.saved(lambda: answers_domain.save(**_answer_values(form)), _("Answer saved."), form)
    ):
        return redirect(url_for("admin.answers"))
    return _answer_page(form, None)


@bp.route("/answers/<int:answer_id>", methods=["GET", "POST"])
@roles_required("admin")
def answer(answer_id: int):
    """Change an answer (preview first if you like)."""
    item = pages.found_or_404(Answer, answer_id)
    form = forms.AnswerForm(obj=item)
    form.service_ids.choices = [(s.id, s.name) for s in _services()]
    if request.method == "GET":
        form.service_ids.data = [s.id for s in item.services]
        form.topics.data = ", ".join(item.topics)
    if (
        not form.preview.data
        and form.validate_on_submit()
        and pages.saved(
            lambda: answers_domain.save(**_answer_values(form), answer=item),
            _("Answer saved."),
            form,
        )
    ):
        return redirect(url_for("admin.answers"))
    return _answer_page(form, item)


def _rule_form(obj=None):
    form = forms.RoutingRuleForm(obj=obj)
    form.service_id.choices = pages.optional_choices(_("Any service"), _services())
    form.neighborhood_id.choices = pages.optional_choices(_("Anywhere"), pages.neighborhoods_by_name())
    form.department_id.choices = pages.optional_choices(_("Choose…"), pages.departments_by_name())
    staff = db.session.scalars(
        select(User)
        .where(User.role.in_((Role.STAFF, Role.ADMIN)), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    form.assignee_id.choices = pages.optional_choices(_("Nobody"), staff, name=lambda u: u.display_name)
    if obj is not None and request.method == "GET" and obj.area_geojson:
        import json

        form.area_geojson.data = json.dumps(obj.area_geojson)
    return form


def _rule_values(form) -> dict:
    return {
        "name": form.name.data,
        "service_id": form.service_id.data,
        "neighborhood_id": form.neighborhood_id.data,
        "area_geojson": form.area_geojson.data,
        "department_id": form.department_id.data,
        "assignee_id": form.assignee_id.data,
        "active": form.active.data,
    }


@bp.route("/routing", methods=["GET", "POST"])
@roles_required("admin")
def routing_rules():
    """The ordered routing rules (first match wins); add one, move one up or down."""
    form = _rule_form()
    if form.validate_on_submit() and pages.saved(
        lambda: routing.save_rule(**_rule_values(form)), _("Routing rule saved."), form
    ):
        return redirect(url_for("admin.routing_rules"))
    any_label, anywhere = _("any"), _("anywhere")
    rows = []
    for rule in routing.ordered_rules():
        area = (
            rule.neighborhood.name
            if rule.neighborhood
            else (_("drawn area") if rule.area_geojson else anywhere)
        )
        rows.append(
            {
                "cells": [
                    rule.position,
                    rule.name or "",
                    rule.service.name if rule.service else any_label,
                    area,
                    rule.department.name,
                    rule.assignee.display_name if rule.assignee else "",
                    _("yes") if rule.active else _("no"),
                ],
                "url": url_for("admin.routing_rule", rule_id=rule.id),
                "actions": [
                    (_("Move up"), url_for("admin.move_rule", rule_id=rule.id, direction="up")),
                    (_("Move down"), url_for("admin.move_rule", rule_id=rule.id, direction="down")),
                    (_("Delete"), url_for("admin.delete_rule", rule_id=rule.id)),
                ],
            }
        )
    return pages.admin_page(
        title=_("Routing rules"),
        headers=[
            _("Order"),
            _("Name"),
            _("Service"),
            _("Area"),
            _("Department"),
            _("Assignee"),
            _("Active"),
        ],
        rows=rows,
        table_caption=_(
            "Tried from the top; the first matching rule decides. Without a "
            "match, the service's own department keeps the request."
        ),
        forms=[(_("Add a rule"), form, url_for("admin.routing_rules"), False)],
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.route("/routing/<int:rule_id>", methods=["GET", "POST"])
@roles_required("admin")
def routing_rule(rule_id: int):
    """Change one routing rule."""
    item = pages.found_or_404(RoutingRule, rule_id)
    form = _rule_form(item)
    if form.validate_on_submit() and pages.saved(
        lambda: routing.save_rule(**_rule_values(form), rule=item),
        _("Routing rule saved."),
        form,
    ):
        return redirect(url_for("admin.routing_rules"))
    return pages.admin_page(
        title=item.name or _("Routing rule %(n)s", n=item.position),
        back=url_for("admin.routing_rules"),
        forms=[(_("Edit rule"), form, url_for("admin.routing_rule", rule_id=item.id), False)],
    )


@bp.post("/routing/<int:rule_id>/<any(up, down):direction>")
@roles_required("admin")
def move_rule(rule_id: int, direction: str):
    """Move a rule one place up or down."""
    if ConfirmForm().validate_on_submit():
        pages.saved(lambda: routing.move(rule_id, -1 if direction == "up" else 1), _("Order saved."))
    else:
        flash(_("Please try again."), "error")
    return redirect(url_for("admin.routing_rules"))


@bp.post("/routing/<int:rule_id>/delete")
@roles_required("admin")
def delete_rule(rule_id: int):
    """Remove a routing rule."""
    if ConfirmForm().validate_on_submit():
        pages.saved(lambda: routing.delete(rule_id), _("Routing rule removed."))
    return redirect(url_for("admin.routing_rules"))


@bp.get("/mail")
@roles_required("admin")
def mail_intake():
    """The e-mail intake: on or off, the last successful poll, and messages for staff."""
    from flask import current_app

    from webapp.domain.intake import mailbox

    return render_template(
        "admin/mail_intake.html",
        configured=mailbox.is_configured(current_app.config),
        state=mailbox.status(),
        waiting=mailbox.waiting_for_triage(),
        ignored=mailbox.ignored_recently(),
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.post("/mail/<int:mail_id>/handled")
@roles_required("admin")
def mail_handled(mail_id: int):
    """Staff dealt with a message that needed a person."""
    from webapp.models import InboundMail

    item = pages.found_or_404(InboundMail, mail_id)
    if ConfirmForm().validate_on_submit():
        item.triaged = True
        db.session.commit()
        flash(_("Marked as handled."))
    return redirect(url_for("admin.mail_intake"))
