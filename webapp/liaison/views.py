"""Liaison dashboard: the requests of the liaison's neighborhood, a map, following.

Logging a report for a neighbor happens in the resident report flow (the same
offline-first outbox); this page links to it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.domain.geo import neighborhoods
from webapp.domain.lifecycle import following, queue
from webapp.domain.lifecycle import requests as requests_domain
from webapp.liaison.blueprint import bp
from webapp.models import Follow, Neighborhood
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db
from webapp.plumbing.inputs import number_arg


def _chosen_neighborhood() -> Neighborhood | None:
    """The liaison's own neighborhood; staff may pick any with ``?neighborhood=<id>``."""
    if current_user.is_staff:
        chosen = number_arg(request.args, "neighborhood")
        if chosen is not None:
            return db.session.get(Neighborhood, chosen)
    return current_user.neighborhood


@bp.get("/")
@roles_required("liaison", "staff")
def dashboard():
    """The neighborhood at a glance: counts, oldest open, overdue, a map and a list."""
    neighborhood = _chosen_neighborhood()
    board = neighborhoods.dashboard(neighborhood) if neighborhood else None
    followed: set[int] = set()
    if board is not None:
        ids = [r.id for r in board.requests]
        followed = set(
            db.session.scalars(
                select(Follow.request_id).where(
                    Follow.user_id == current_user.id, Follow.request_id.in_(ids)
                )
            )
        )
    choices = []
    if current_user.is_staff:
        choices = db.session.scalars(select(Neighborhood).order_by(Neighborhood.name)).all()
    return render_template(
        "liaison/dashboard.html",
        board=board,
        followed=followed,
        choices=choices,
        is_overdue=queue.is_overdue,
    )


@bp.post("/requests/<public_id>/follow")
@roles_required("liaison", "staff")
def follow(public_id: str):
    """Follow (or, with ``action=unfollow``, stop following) a neighborhood request."""
    req = requests_domain.get_by_public_id(public_id)
    if not neighborhoods.may_watch(current_user, req):
        abort(403)
    if request.form.get("action") == "unfollow":
        following.unfollow(req, user=current_user)
        message = _("You no longer follow %(id)s.", id=req.public_id)
    else:
        following.follow(req, user=current_user)
        message = _("You now follow %(id)s.", id=req.public_id)
    db.session.commit()
    flash(message)
    target = url_for("liaison.dashboard")
    if current_user.is_staff and req.neighborhood_id:
        target = url_for("liaison.dashboard", neighborhood=req.neighborhood_id)
    return redirect(target)
