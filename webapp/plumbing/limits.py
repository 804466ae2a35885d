"""Rate limits beyond the per-address ones: per account, per e-mail, and for "me too".

Addresses are the real client's once ``TRUSTED_PROXIES`` is set (see deployment.py).
Every limit is a setting; the keys are kept apart by a prefix so one never uses up
another.
"""

from __future__ import annotations

from flask import current_app, request

from webapp.domain.people.accounts import normalise_email
from webapp.models import Role
from webapp.plumbing.sessions import current_account

GENEROUS_ROLES = (Role.LIAISON, Role.STAFF, Role.ADMIN)


def submit_account_limit() -> str:
    """Reports per account: residents have a limit; liaisons and staff a generous one."""
    account = current_account()
    if account is not None and account.role in GENEROUS_ROLES:
        return current_app.config["RATELIMIT_SUBMIT_STAFF"]
    return current_app.config["RATELIMIT_SUBMIT_ACCOUNT"]


def submit_account_key() -> str:
    """The signed-in account (signing up again gives a new account, but each one is held)."""
    account = current_account()
    return f"submit-account:{account.id if account is not None else 'none'}"


def not_signed_in() -> bool:
    """Anonymous callers are held by the per-device and per-address limits instead."""
    return current_account() is None


def signin_account_limit() -> str:
    """Failed sign-ins per e-mail address, whoever tries them and from wherever."""
    return current_app.config["RATELIMIT_SIGNIN_ACCOUNT"]


def signin_account_key() -> str:
    """The e-mail address being tried (the same key whether or not it has an account)."""
    return "signin-email:" + normalise_email(request.form.get("email", ""))[:254]


def failed_sign_in(response) -> bool:
    """Only a refused sign-in counts against the account (a success redirects)."""
    return response.status_code != 302


def follow_limit() -> str:
    """"Me too" follows per address."""
    return current_app.config["RATELIMIT_FOLLOW"]


def follow_address_key() -> str:
    """The caller's address (a script without cookies cannot step around it)."""
    return f"follow-address:{request.remote_addr}"


def resolved_address_key() -> str:
    """The caller's address, for "this answered my question" (counted like "me too")."""
    return f"resolved-address:{request.remote_addr}"


def not_following() -> bool:
    """A push subscription that follows no request is not a "me too"."""
    body = request.get_json(silent=True)
    return not (isinstance(body, dict) and body.get("request"))


def export_limit() -> str:
    """Open-data pulls computed on the spot, per address (the published files are free)."""
    return current_app.config["RATELIMIT_EXPORT"]


def export_address_key() -> str:
    """The caller's address, for the on-the-spot open-data pulls."""
    return f"export-address:{request.remote_addr}"


def chat_start_limit() -> str:
    """New live chats per address (a chat's own lines are limited per chat by its rules)."""
    return current_app.config["RATELIMIT_CHAT_START"]


def chat_start_key() -> str:
    """The caller's address, for starting live chats."""
    return f"chat-start-address:{request.remote_addr}"
