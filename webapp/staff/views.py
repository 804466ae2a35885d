"""Staff console: the queue, the request workbench and its actions, the staff export.

Views are thin: parse the form, call a rule in ``webapp.domain.lifecycle`` (``workflow``, ``assignment`` …), then
redirect back to the workbench with a flash. A refused action (DomainError) is rolled
back and explained in a flash message, never a 500.
"""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.domain import service_levels
from webapp.domain.errors import DomainError, NotFound
from webapp.domain.figures import exports
from webapp.domain.geo import places
from webapp.domain.glossary import status_word
from webapp.domain.lifecycle import (
    after_closure,
    assignment,
    location,
    merging,
    queue,
    waiting,
    workflow,
)
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.notifications import staff_alerts
from webapp.domain.open311.forwarding import queueing
from webapp.models import (
    Department,
    Neighborhood,
    PhotoKind,
    Resolution,
    Role,
    Service,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing import spot_downloads
from webapp.plumbing.access import roles_required
from webapp.plumbing.errors import negotiated_error
from webapp.plumbing.extensions import db
from webapp.plumbing.inputs import MAX_ID, MAX_PAGE, column_length, number_arg, text_arg
from webapp.staff.blueprint import bp

NEARBY_RADIUS_M = 300
MAX_AGE_DAYS = 36_500


def _int_arg(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole-number query argument, or None when missing; a 400 when it is not one."""
    return number_arg(request.args, name, maximum=maximum)


def queue_filters() -> queue.QueueFilters:
    """The queue filters from the query string; unknown values fall back to defaults."""
    status = request.args.get("status", "open")
    sort = request.args.get("sort", queue.DEFAULT_SORT)
    return queue.QueueFilters(
        status=status if status in queue.STATUS_CHOICES else "open",
        service_id=_int_arg("service"),
        department_id=_int_arg("department"),
        neighborhood_id=_int_arg("neighborhood"),
        overdue=request.args.get("overdue") == "1",
        at_risk=request.args.get("at_risk") == "1",
        reopened=request.args.get("reopened") == "1",
        min_age_days=number_arg(request.args, "age", minimum=0, maximum=MAX_AGE_DAYS),
        sort=sort if sort in queue.SORTS else queue.DEFAULT_SORT,
    )


def _choices() -> dict:
    """Services, departments and neighborhoods for the filter and assign forms."""
    return {
        "services": db.session.scalars(select(Service).order_by(Service.name)).all(),
        "departments": db.session.scalars(select(Department).order_by(Department.name)).all(),
        "neighborhoods": db.session.scalars(select(Neighborhood).order_by(Neighborhood.name)).all(),
    }


@bp.get("/", endpoint="queue")
@roles_required("staff")
def queue_page():
    """The queue: filtered, sorted and paged on the server (works without JavaScript)."""
    filters = queue_filters()
    page = _int_arg("page", maximum=MAX_PAGE) or 1
    result = queue.search(filters, page=page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    now = utcnow()
    horizon = service_levels.at_risk_horizon(now)
    return render_template(
        "staff/queue.html",
        result=result,
        filters=filters,
        args=args,
        statuses=queue.STATUS_CHOICES,
        sorts=list(queue.SORTS),
        standing=lambda req: service_levels.standing(req, now, horizon),
        **_choices(),
    )


def _load(public_id: str) -> ServiceRequest:
    """The request for the workbench, with its timeline and photos loaded."""
    found = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.public_id == public_id)
        .options(
            selectinload(ServiceRequest.events),
            selectinload(ServiceRequest.photos),
            selectinload(ServiceRequest.service),
        )
    ).first()
    if found is None:
        raise NotFound(_("We could not find that request."))
    return found


@bp.get("/requests/<public_id>")
@roles_required("staff")
def workbench(public_id: str):
    """Everything about one request, and the forms to act on it."""
    req = _load(public_id)
    nearby = []
    if req.lat is not None and req.long is not None:
        nearby = [
            item
            for item in places.nearby_open_requests(req.lat, req.long, radius_m=NEARBY_RADIUS_M)
            if item.request.id != req.id
        ]
    templates = workflow.response_templates(req.service_id)
    chosen = None
    template_id = _int_arg("template")
    if template_id:
        chosen = next((t for t in templates if t.id == template_id), None)
    staff = db.session.scalars(
        select(User)
        .where(User.role.in_((Role.STAFF, Role.ADMIN)), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    forwarded = queueing.for_request(req)
    return render_template(
        "staff/workbench.html",
        req=req,
        nearby=nearby,
        templates=templates,
        chosen=chosen,
        staff_members=staff,
        resolutions=list(Resolution),
        allowed=workflow.ALLOWED_TRANSITIONS[req.detailed_status],
        Status=Status,
        is_overdue=queue.is_overdue(req),
        standing=service_levels.standing(req),
        rating=after_closure.survey_rating(req),
        forwarding=forwarded,
        forwarded_updates=queueing.updates_of(forwarded) if forwarded else [],
        **_choices(),
    )


@bp.post("/requests/<public_id>/location")
@roles_required("staff")
def set_location(public_id: str):
    """Place a request that came without coordinates ("needs location")."""

    def act(req):
        try:
            lat = float(request.form.get("lat", ""))
            long = float(request.form.get("long", ""))
        except ValueError:
            raise DomainError(_("Please give a latitude and a longitude."), field="lat") from None
        location.place(req, current_user, lat, long)
        return _("The location is set.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/forward/retry")
@roles_required("staff")
def retry_forwarding(public_id: str):
    """Send a request the city's CRM refused or could not take to it again."""

    def act(req):
        row = queueing.for_request(req)
        if row is None:
            raise DomainError(_("This request is not sent to a CRM."))
        queueing.retry(row)
        return _("The request will be sent to the CRM again.")

    return _act(public_id, act)


def _act(public_id: str, action) -> Response:
    """Run ``action(req)``, commit and flash its message; on refusal roll back and explain."""
    req = _load(public_id)
    try:
        message = action(req)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(message)
    return redirect(url_for("staff.workbench", public_id=public_id))


@bp.post("/requests/<public_id>/status")
@roles_required("staff")
def change_status(public_id: str):
    """Acknowledge, start work, or send back to the queue (not closing: see ``close``)."""
    target = request.form.get("status", "")
    if target == Status.CLOSED:
        target = "invalid"

    def act(req):
        workflow.transition(req, target, current_user, note=request.form.get("note"))
        return _("Status: %(status)s.", status=status_word(target))

    return _act(public_id, act)


@bp.post("/requests/<public_id>/assign")
@roles_required("staff")
def assign(public_id: str):
    """Give the request to a department and/or a staff member."""
    assign_me = bool(request.form.get("assign_me"))

    def act(req):
        assignee = None
        chosen_assignee = (
            current_user.id if assign_me else number_arg(request.form, "assignee", status=422)
        )
        if chosen_assignee is not None:
            assignee = db.session.get(User, chosen_assignee)
            if assignee is None:
                raise DomainError(_("That person does not exist."), field="assignee")
        department = number_arg(request.form, "department", status=422)
        if department is not None and db.session.get(Department, department) is None:
            raise DomainError(_("That department does not exist."), field="department")
        assignment.assign(req, current_user, department_id=department, assignee=assignee)
        if assignee is not None:
            return _("Assigned to %(name)s.", name=assignee.display_name)
        return _("Assignment saved.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/ask")
@roles_required("staff")
def ask_resident(public_id: str):
    """Ask the resident for information; the service-level clock stands until they answer."""

    def act(req):
        waiting.ask_resident(req, current_user, request.form.get("question"))
        return _("Question sent. The clock is stopped until the resident answers.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/resume")
@roles_required("staff")
def resume_clock(public_id: str):
    """End the wait on the resident (the answer came another way); the clock runs again."""

    def act(req):
        waiting.resume_clock(req, current_user, request.form.get("note"))
        return _("The clock runs again.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/note")
@roles_required("staff")
def note(public_id: str):
    """Add a public note (the resident sees it) or a private one (staff only)."""
    public = request.form.get("visibility") == "public"

    def act(req):
        workflow.add_note(req, current_user, request.form.get("note", ""), public=public)
        return _("Public note added.") if public else _("Private note added.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/close")
@roles_required("staff")
def close(public_id: str):
    """Close with a resolution, a required public note and an optional after-photo."""
    upload = request.files.get("photo")
    data = upload.read() if upload and (upload.filename or upload.mimetype) else b""

    def act(req):
        survivor = None
        duplicate_of = (request.form.get("duplicate_of") or "").strip()
        if request.form.get("resolution") == Resolution.DUPLICATE and duplicate_of:
            survivor = requests_domain.get_by_public_id(duplicate_of)
        processed = photo_pipeline.process(data) if data else None
        event = workflow.transition(
            req,
            Status.CLOSED,
            current_user,
            note=request.form.get("note"),
            resolution=request.form.get("resolution"),
            referred_to=request.form.get("referred_to"),
            duplicate_of=survivor,
        )
        if processed is not None:
            photo_pipeline.attach(req, processed, kind=PhotoKind.CLOSURE, event=event)
        return _("Request closed. The resident has been told.")

    return _act(public_id, act)


@bp.post("/requests/<public_id>/merge")
@roles_required("staff")
def merge(public_id: str):
    """Merge this request into another one (by public id): followers move over."""
    target = (request.form.get("survivor") or "").strip()

    def act(req):
        if not target:
            raise DomainError(_("Please give the number of the request to keep."))
        survivor = requests_domain.get_by_public_id(target)
        merging.merge(req, survivor, current_user, note=request.form.get("note"))
        return _("Merged into %(survivor)s.", survivor=survivor.public_id)

    return _act(public_id, act)


def _export(kind: str, private: bool):
    """Stream the export as CSV or GeoJSON, holding one of the process's download permits.

    Read from the database row by row, it keeps a worker busy for as long as it runs
    (minutes on a big city): with the public pulls it shares the few permits each process
    hands out, and while none is free the caller is asked to try again in a few seconds.
    """
    service_code = text_arg(
        request.args, "service_code", max_length=column_length(Service.service_code)
    )
    def body():
        rows = exports.requests(private, service_code=service_code)
        return exports.to_csv(rows, private) if kind == "csv" else exports.to_geojson(rows)

    mimetype = "text/csv" if kind == "csv" else "application/geo+json"
    response = spot_downloads.stream_with_permit(body, mimetype)
    if response is None:
        message = _(
            "Another download is being prepared right now. Please try again in a few "
            "seconds."
        )
        return negotiated_error(
            503, message, headers={"Retry-After": spot_downloads.BUSY_RETRY_AFTER}
        )
    name = "requests-staff" if private else "requests"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    if private:
        response.headers["Cache-Control"] = "no-store"
    current_app.logger.info("export %s private=%s", kind, private)
    return response


@bp.get("/export/requests.<any(csv, geojson):kind>")
@roles_required("staff")
def export(kind: str):
    """The staff export, with private contact fields."""
    return _export(kind, private=True)


@bp.route("/alerts", methods=["GET", "POST"])
@roles_required("staff")
def alerts():
    """My alerts: e-mail or push for new assignments (and overdue lists for supervisors),
    quiet hours, and turning push on for this browser."""
    if request.method == "POST":
        try:
            staff_alerts.save_preferences(
                current_user, request.form.get("channel"), request.form.get("quiet_hours")
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return render_template(
                "staff/alerts.html", subscriptions=staff_alerts.push_subscriptions(current_user)
            ), 422
        flash(_("Alert settings saved."))
        return redirect(url_for("staff.alerts"))
    return render_template(
        "staff/alerts.html", subscriptions=staff_alerts.push_subscriptions(current_user)
    )
