"""After closure, the requester has a say: "Yes, it's fixed", reopen ("not fixed")
within the reopen window, and a one-question 1–5 rating. Before closure, they answer
the city's question when it waits on them ("needs information").

Only the requester (their account or the device they reported from) may do these;
the rules in ``webapp.domain.lifecycle.after_closure`` refuse anyone else with a 403. Other refusals
(outside the window, empty comment) come back as a flash on the status page.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import after_closure, waiting
from webapp.domain.lifecycle import requests as requests_domain
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db
from webapp.plumbing.inputs import number_arg
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident.blueprint import bp

MAX_REOPEN_PHOTOS = 1


def reopen_window_days() -> int:
    """How many days after closing the requester may reopen (``REOPEN_WINDOW_DAYS``)."""
    return int(current_app.config.get("REOPEN_WINDOW_DAYS", 30))


def after_closure_state(req) -> dict:
    """What the "Is it fixed?" box shows the current caller for ``req``."""
    account, device = current_account(), current_device()
    show = req.is_closed and requests_domain.is_requester(req, account, device)
    if not show:
        return {"show": False}
    window = reopen_window_days()
    return {
        "show": True,
        "confirmed": after_closure.confirmed_fixed(req),
        "can_reopen": after_closure.can_reopen(req, window),
        "rating": after_closure.survey_rating(req),
        "window_days": window,
    }


@bp.app_context_processor
def _after_closure_helpers() -> dict:
    """Expose ``after_closure_state`` and the city's open question to the status page."""
    return {"after_closure_state": after_closure_state, "waiting_question": waiting.question}


def _back(public_id: str, anchor: str = "after-closure"):
    return redirect(url_for("resident.request_page", public_id=public_id) + "#" + anchor)


def _run(public_id: str, action, success: str, anchor: str = "after-closure"):
    """Do ``action(req, account, device)`` and commit; refusals become a flash message.

    A refusal because the caller is not the requester stays a 403 (the error handler
    answers it), so no one learns anything from another person's request.
    """
    req = requests_domain.get_by_public_id(public_id)
    if not req.service.public:
        return redirect(url_for("resident.home"))
    try:
        action(req, current_account(), current_device())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        flash(error.message, "error")
    else:
        flash(success)
    return _back(public_id, anchor)


@bp.post("/requests/<public_id>/confirm-fixed")
@public
def confirm_fixed(public_id: str):
    """The requester confirms the problem is fixed."""

    def act(req, account, device):
        after_closure.confirm_fixed(req, user=account, device=device)

    return _run(public_id, act, _("Thank you for confirming!"))


@bp.post("/requests/<public_id>/reopen")
@public
def reopen(public_id: str):
    """The requester says it is not fixed: a comment, optionally a photo."""
    uploads = [f for f in request.files.getlist("photo") if f.filename or f.mimetype]
    photos = [f.read() for f in uploads[:MAX_REOPEN_PHOTOS]]

    def act(req, account, device):
        after_closure.reopen(
            req,
            request.form.get("comment", ""),
            user=account,
            device=device,
            photos=[p for p in photos if p],
            window_days=reopen_window_days(),
        )

    return _run(public_id, act, _("Your request is open again. The city will take another look."))


@bp.post("/requests/<public_id>/rating")
@public
def rate(public_id: str):
    """The requester's 1–5 satisfaction rating with an optional comment."""

    def act(req, account, device):
        rating = number_arg(request.form, "rating", minimum=0, maximum=5, default=0, status=422)
        after_closure.answer_survey(
            req, rating, request.form.get("comment"), user=account, device=device
        )

    return _run(public_id, act, _("Thank you for your rating."))


@bp.post("/requests/<public_id>/answer")
@public
def answer_question(public_id: str):
    """The requester answers the city's question; the request's clock runs again."""

    def act(req, account, device):
        waiting.resident_answers(req, request.form.get("answer"), user=account, device=device)

    return _run(public_id, act, _("Thank you. The city has your answer."), anchor="question")
