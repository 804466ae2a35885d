"""The pages our e-mail links open, find-a-request-by-number, and "get my requests on
another phone".

Opening a link (GET) only shows a page with one button; the button (POST) acts. Mail
scanners that fetch every link therefore change nothing. A tampered, expired or used
link gets a page that says so plainly, and nothing changes. The unsubscribe POST also
answers mail programs' one-click requests (RFC 8058), which carry no CSRF token.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import after_closure
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.notifications import alerts, email_actions, public_address
from webapp.domain.people import links
from webapp.plumbing.access import public
from webapp.plumbing.extensions import csrf, db, limiter
from webapp.plumbing.inputs import coordinate_arg, number_arg
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident.blueprint import bp

LINK_PROBLEM_STATUS = {"tampered": 400, "expired": 410, "used": 410}


def _link_problem(error: links.LinkError):
    """The plain page for a link that cannot be used (nothing was changed)."""
    db.session.rollback()
    messages = {
        "tampered": _(
            "This link is not complete or was changed. Please use the link exactly as it is in the e-mail."
        ),
        "expired": _("This link has expired. Nothing was changed."),
        "used": _("This link was already used. Nothing was changed."),
    }
    return (
        render_template(
            "resident/email_link.html", state="problem", message=messages[error.reason]
        ),
        LINK_PROBLEM_STATUS[error.reason],
    )


def _window_days() -> int:
    return int(current_app.config.get("REOPEN_WINDOW_DAYS", 30))


@bp.route("/e/fixed/<token>", methods=["GET", "POST"])
@public
def email_fixed(token: str):
    """ "Yes, it's fixed" from the closure mail: a confirm page, then one tap."""
    try:
        if request.method == "GET":
            req = email_actions.request_for(links.read(links.FIXED, token))
            return render_template("resident/email_link.html", state="confirm_fixed", req=req)
        req = email_actions.confirm_fixed(token)
        db.session.commit()
    except links.LinkError as error:
        return _link_problem(error)
    except DomainError as error:
        db.session.rollback()
        return render_template(
            "resident/email_link.html", state="problem", message=error.message
        ), 409
    return render_template("resident/email_link.html", state="fixed_done", req=req)


@bp.route("/e/not-fixed/<token>", methods=["GET", "POST"])
@public
def email_not_fixed(token: str):
    """ "No, it's not fixed": a page asking what is wrong (and a photo), then reopen."""
    try:
        req = email_actions.request_for(links.read(links.NOT_FIXED, token))
        if request.method == "GET":
            return render_template(
                "resident/email_link.html",
                state="confirm_not_fixed",
                req=req,
                can_reopen=after_closure.can_reopen(req, _window_days()),
                window_days=_window_days(),
            )
        uploads = [f for f in request.files.getlist("photo") if f.filename or f.mimetype]
        photos = [data for data in (f.read() for f in uploads[:1]) if data]
        req = email_actions.reopen(token, request.form.get("comment", ""), photos, _window_days())
        db.session.commit()
    except links.LinkError as error:
        return _link_problem(error)
    except DomainError as error:
        db.session.rollback()
        return (
            render_template(
                "resident/email_link.html",
                state="confirm_not_fixed",
                req=req,
                can_reopen=after_closure.can_reopen(req, _window_days()),
                window_days=_window_days(),
                error=error.message,
                comment=request.form.get("comment", ""),
            ),
            error.status,
        )
    return render_template("resident/email_link.html", state="reopened", req=req)


@bp.route("/e/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def email_unsubscribe(token: str):
    """Unsubscribe: GET shows a button; POST (ours or a mail program's one-click) acts."""
    try:
        if request.method == "GET":
            links.read(links.UNSUBSCRIBE, token, single_use=False)
            return render_template("resident/email_link.html", state="confirm_unsubscribe")
        stopped = email_actions.unsubscribe(token)
        db.session.commit()
    except links.LinkError as error:
        return _link_problem(error)
    return render_template("resident/email_link.html", state="unsubscribed", stopped=stopped)


@bp.route("/e/sign-in/<token>", methods=["GET", "POST"])
@public
def email_sign_in(token: str):
    """The single-use sign-in link: a confirm page, then this device sees the requests."""
    try:
        if request.method == "GET":
            address = email_actions.check_sign_in(token)
            return render_template(
                "resident/email_link.html", state="confirm_sign_in", address=address
            )
        device = current_device(create=True)
        email_actions.sign_in(token, device)
        db.session.commit()
    except links.LinkError as error:
        return _link_problem(error)
    flash(_("This device now shows the requests sent with your e-mail address."))
    return redirect(url_for("resident.my_requests"))


def _sign_in_limit() -> str:
    return current_app.config["RATELIMIT_SIGNIN"]


@bp.post("/my/sign-in-link")
@public
@limiter.limit(_sign_in_limit)
def send_sign_in_link():
    """Mail a sign-in link to the address given with a report (same answer either way)."""
    try:
        email_actions.send_sign_in_link(request.form.get("email", ""), public_address.base_url())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("resident.my_requests") + "#other-device")
    flash(
        _(
            "If requests were sent with that address, an e-mail with a sign-in link is on its way. "
            "It works once, within 15 minutes."
        )
    )
    return redirect(url_for("resident.my_requests") + "#other-device")


def _find_limit() -> str:
    return current_app.config["RATELIMIT_FIND"]


@bp.get("/find")
@public
@limiter.limit(_find_limit)
def find_request():
    """ "Find a request by its number": 311-000123, 000123 or 123 all work."""
    back = request.args.get("back") if request.args.get("back") in ("home", "my") else "home"
    target = url_for("resident.my_requests") if back == "my" else url_for("resident.home")
    public_id = requests_domain.public_id_from_number(request.args.get("number"))
    if public_id is None:
        flash(_("Please type the request number, for example 311-000123."), "error")
        return redirect(target + "#find")
    try:
        found = requests_domain.get_by_public_id(public_id)
    except DomainError:
        found = None
    if found is None or not found.service.public:
        flash(
            _("We could not find request %(id)s. Please check the number.", id=public_id), "error"
        )
        return redirect(target + "#find")
    return redirect(url_for("resident.request_page", public_id=public_id))


@bp.post("/requests/<public_id>/email-updates")
@public
def email_updates(public_id: str):
    """The requester asks for the updates by e-mail (push refused or not available)."""
    req = requests_domain.get_by_public_id(public_id)
    try:
        address = email_actions.email_updates_to(
            req, request.form.get("email"), user=current_account(), device=current_device()
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        flash(error.message, "error")
    else:
        flash(
            _(
                "We will e-mail the updates about %(id)s to %(address)s.",
                id=req.public_id,
                address=address,
            )
        )
    return redirect(url_for("resident.request_page", public_id=public_id))


def _choice(form, name: str, message: str) -> int | None:
    """The id or number a list in the form offers (the whole-number rule), or None."""
    try:
        return number_arg(form, name, minimum=0)
    except DomainError:
        raise DomainError(message, field=name) from None


def _alert_form(**extra):
    from webapp.models import Neighborhood

    neighborhoods = db.session.scalars(select(Neighborhood).order_by(Neighborhood.name)).all()
    return render_template(
        "resident/alerts.html",
        neighborhoods=neighborhoods,
        radii=alerts.RADII_M,
        form=request.values,
        **extra,
    )


@bp.get("/alerts")
@public
def alerts_page():
    """ "E-mail me about new reports near here / in my neighborhood"."""
    return _alert_form()


@bp.post("/alerts")
@public
@limiter.limit(_sign_in_limit)
def create_alert():
    """Store an alert and mail the link that turns it on."""
    form = request.form
    try:
        near = form.get("area") == "near"
        alerts.create(
            form.get("email"),
            frequency=form.get("frequency", ""),
            base_url=public_address.base_url(),
            neighborhood_id=None
            if near
            else _choice(form, "neighborhood", _("Please choose a neighborhood from the list.")),
            lat=coordinate_arg(form, "lat", status=422) if near else None,
            long=coordinate_arg(form, "long", status=422) if near else None,
            radius_m=_choice(form, "radius", _("Please choose a distance from the list."))
            if near
            else None,
            locale=str(get_locale()),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _alert_form(error=error.message, error_field=error.field), error.status
    return render_template("resident/email_link.html", state="alert_requested")


@bp.route("/e/alert/<token>", methods=["GET", "POST"])
@public
def email_alert(token: str):
    """Confirm an area alert from its e-mail: a page with one button, then it is on."""
    try:
        if request.method == "GET":
            alert = alerts.check_confirmation(token)
            return render_template("resident/email_link.html", state="confirm_alert", alert=alert)
        alert = alerts.confirm(token)
        db.session.commit()
    except links.LinkError as error:
        return _link_problem(error)
    return render_template("resident/email_link.html", state="alert_on", alert=alert)
