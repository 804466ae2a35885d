"""The one family of access decorators.

Every view declares who may call it: ``public``, ``login_required``, ``roles_required``,
``api_key_required`` (Open311) or ``provider_signed`` (a provider's webhook). Each sets
``view.access`` so a test can walk the URL map and fail when a route has made no decision. Refusals are negotiated: API
callers get 401/403 JSON, browsers are redirected to sign in or shown a 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

ACCESS_ATTRIBUTE = "access"


def wants_json() -> bool:
    """True when the caller is a program (API path, or JSON preferred over HTML)."""
    if request.path.startswith(("/api/", "/open311/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _mark(view: Callable, decision: str) -> Callable:
    setattr(view, ACCESS_ATTRIBUTE, decision)
    return view


def public(view: Callable) -> Callable:
    """Anyone may call this view, signed in or not."""
    return _mark(view, "public")


def _refuse_anonymous():
    if wants_json():
        abort(401)
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def login_required(view: Callable) -> Callable:
    """Only signed-in people may call this view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _refuse_anonymous()
        return view(*args, **kwargs)

    return _mark(wrapped, "login")


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    """Only signed-in people holding one of ``roles`` may call this view (admins always)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _refuse_anonymous()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return _mark(wrapped, "roles:" + ",".join(sorted(roles)))

    return decorator


def local_scrape(view: Callable) -> Callable:
    """Monitoring reads: the view lets in scrapes from allowed addresses or with the
    metrics token, and checks that itself (see ``webapp.operations.metrics.scrape_allowed``)."""
    return _mark(view, "local_scrape")


def api_key_checked(view: Callable) -> Callable:
    """The view checks an Open311 ``api_key`` itself (reads stay public, writes need a key)."""
    return _mark(view, "api_key")


def provider_signed(view: Callable) -> Callable:
    """A provider's webhook: the view lets in only calls carrying the provider's valid
    signature, and checks that itself (see ``webapp.sms.views``)."""
    return _mark(view, "provider_signature")
