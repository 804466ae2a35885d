"""The language switcher: remember the reader's choice on the account, device and cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for

from webapp.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, normalise
from webapp.plumbing.access import public
from webapp.plumbing.extensions import csrf, db
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident.blueprint import bp


def _back_to(target: str | None) -> str:
    """Only go back to a page on this site."""
    target = target or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("resident.home")


@bp.post("/language")
@public
@csrf.exempt
def choose_language():
    """Switch the language; works as a plain form, so without JavaScript too.

    No CSRF token: the switcher is on every page, including the copies the service
    worker keeps for offline use, where a token would go stale once the session changes.
    The worst a forged post can do is change the language, which the reader sees and
    can undo.
    """
    code = normalise(request.form.get("locale"))
    if code is None:
        abort(400)
    user = current_account()
    if user is not None:
        user.locale = code
    device = current_device(adopt=True)
    if device is not None:
        device.locale = code
    db.session.commit()
    response = redirect(_back_to(request.form.get("next")), code=303)
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
