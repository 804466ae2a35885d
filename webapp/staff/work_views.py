"""My work: the crew's offline view (/staff/work), its data, and the queued actions it sends.

The page is a shell that the phone keeps (the service worker saves pages as they are
opened); the list itself comes from ``/staff/work/data`` and is saved on the phone by the
page's script, with the queued actions (``static/js/staff-work.js``). Rules live in
``webapp.domain.lifecycle.crew_work`` and ``crew_actions``.
"""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import crew_actions, crew_work
from webapp.domain.lifecycle.submission import UUID_PATTERN
from webapp.models import Resolution, utcnow, w3c
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db
from webapp.plumbing.inputs import MAX_ID, number_arg
from webapp.staff.blueprint import bp
from webapp.wording import event_label, status_label


def _photo_url(key: str) -> str:
    return url_for("resident.photo", key=key)


def _card(req) -> dict:
    """A request as the phone keeps it, with its status and timeline in words."""
    card = crew_work.request_card(req, _photo_url)
    card["status_label"] = status_label(req)
    for entry, event in zip(card["history"], req.events, strict=True):
        entry["label"] = event_label(event)
    return card


@bp.get("/work")
@roles_required("staff")
def work_page():
    """My work: the list, the map and the actions; it opens with no signal."""
    return render_template("staff/work.html", resolutions=list(Resolution))


@bp.get("/work/data")
@roles_required("staff")
def work_data():
    """My open requests and my crew's, with what the phone keeps of each; ordered by the
    nearest-next route from ``lat``/``long`` when given."""
    rows = crew_work.my_work(current_user)
    cards = [_card(r) for r in rows]
    lat, long = request.args.get("lat"), request.args.get("long")
    try:
        start = (float(lat), float(long)) if lat and long else None
    except ValueError:
        return jsonify(error=_("Please give a latitude and a longitude.")), 400
    by_id = {c["public_id"]: c for c in cards}
    order = crew_work.route([(c["public_id"], c["lat"], c["long"]) for c in cards], start)
    return jsonify(
        fetched_at=w3c(utcnow()),
        me={"id": current_user.id, "name": current_user.display_name},
        colleagues=[{"id": u.id, "name": u.display_name} for u in crew_work.colleagues()],
        requests=[by_id[i] for i in order],
        csrf=generate_csrf(),
    )


@bp.post("/work/actions")
@roles_required("staff")
def work_action():
    """One queued action from the phone: applied once (200), or a conflict kept (409)."""
    form = request.form
    key = (form.get("key") or "").strip().lower()
    if not UUID_PATTERN.match(key):
        return jsonify(error=_("Every action needs its key (a UUID).")), 400
    upload = request.files.get("photo")
    action = crew_actions.QueuedAction(
        key=key,
        kind=form.get("kind", ""),
        public_id=form.get("request", ""),
        seen_closed=form.get("seen_closed") == "1",
        seen_assignee_id=number_arg(form, "seen_assignee_id", maximum=MAX_ID, status=400),
        note=(form.get("note") or "").strip(),
        public=form.get("public") == "1",
        resolution=form.get("resolution", ""),
        assignee_id=number_arg(form, "assignee_id", maximum=MAX_ID, status=400),
        photo=upload.read() if upload else b"",
    )
    try:
        done = crew_actions.submit(action, current_user)
    except DomainError as error:
        db.session.rollback()
        return jsonify(error=error.message, field=error.field), error.status
    body = {
        "outcome": done.outcome,
        "reason": done.reason,
        "replayed": done.replayed,
        "request": _card(done.request),
    }
    return jsonify(body), 409 if done.outcome == crew_actions.CONFLICT else 200
