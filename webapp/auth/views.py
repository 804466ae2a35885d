"""Views for signing up, in and out. Signing in claims the device's anonymous requests."""

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from webapp.auth.blueprint import bp
from webapp.auth.forms import SetPasswordForm, SignInForm, SignUpForm
from webapp.domain.errors import DomainError
from webapp.domain.notifications import welcome
from webapp.domain.people import accounts, devices, links
from webapp.plumbing import limits
from webapp.plumbing.access import login_required, public
from webapp.plumbing.extensions import db, limiter
from webapp.plumbing.sessions import current_device


def _safe_next(default: str) -> str:
    """Only follow a ``next`` that stays on this site."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _landing_for(user) -> str:
    if user.is_staff:
        return url_for("staff.queue")
    if user.role == "liaison":
        return url_for("liaison.dashboard")
    return url_for("resident.my_requests")


def _claim_device(user) -> None:
    device = current_device()
    if device is not None:
        claimed = devices.claim(device, user)
        if claimed:
            flash(_("%(count)d requests from this device are now in your account.", count=claimed))


def _signin_limit() -> str:
    return current_app.config["RATELIMIT_SIGNIN"]


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
@limiter.limit(
    limits.signin_account_limit,
    key_func=limits.signin_account_key,
    methods=["POST"],
    deduct_when=limits.failed_sign_in,
)
def sign_in():
    """Sign in with email and password; the error never says which one was wrong."""
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            _claim_device(user)
            db.session.commit()
            return redirect(_safe_next(_landing_for(user)))
        flash(_("That email and password do not match an account."), "error")
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-up", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
def sign_up():
    """Create a resident account and sign in."""
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data, form.display_name.data)
        except DomainError as error:
            db.session.rollback()
            if error.field == "password":
                form.password.errors = [*form.password.errors, error.message]
            else:
                flash(
                    _("We could not create that account. If you already have one, sign in."),
                    "error",
                )
        else:
            login_user(user)
            _claim_device(user)
            db.session.commit()
            return redirect(_safe_next(url_for("resident.my_requests")))
    return render_template("auth/sign_up.html", form=form)


@bp.post("/sign-out")
@login_required
def sign_out():
    """Sign out (a POST with a CSRF token, so a link elsewhere cannot sign you out).

    Every session of the account ends, so a copied cookie stops working too, and the
    browser gets a fresh anonymous device: the next person on a shared phone sees
    nothing of this account's requests and gets none of its notifications.
    """
    accounts.end_sessions(current_user)
    token, _device = devices.start_afresh(current_device())
    db.session.commit()
    logout_user()
    g.new_device_token = token
    flash(_("You are signed out."))
    return redirect(url_for("resident.home"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
def set_password(token: str):
    """Choose a password from a welcome e-mail's single-use link (opening it changes
    nothing; only the form's POST does)."""
    try:
        user = welcome.check_token(token)
    except links.LinkError:
        return render_template("auth/set_password.html", form=None, user=None), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            welcome.set_password(token, form.password.data)
        except links.LinkError:
            db.session.rollback()
            return render_template("auth/set_password.html", form=None, user=None), 410
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, error.message]
        else:
            db.session.commit()
            flash(_("Your password is set. Sign in with it."))
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=user)
