"""Accounts: creation, password checks and roles. Passwords use scrypt (a modern KDF)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from webapp.domain.errors import DomainError
from webapp.models import Role, User
from webapp.plumbing.extensions import db

PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
# zxcvbn scores 0-4; 3 means "safely unguessable": it refuses the passwords leaked most
# often (its lists come from real breaches), words, names, keyboard walks, repeats,
# sequences and dates, also in l33t spelling, and anything built from the person's own
# email or name.
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72
# Words anyone guessing a password here would try first: the product's own.
PRODUCT_WORDS = ("civic311", "civic", "311", "demo", "city", "report", "admin", "staff")


def site_words() -> list[str]:
    """The product's words and the city's (its name and jurisdiction), which zxcvbn is
    given as guesses: ``Chattanooga311!`` or ``civic311-demo`` are the first an
    attacker tries on this site, however rare they are elsewhere."""
    from flask import current_app, has_app_context

    words = list(PRODUCT_WORDS)
    if has_app_context():
        for setting in ("CITY_NAME", "JURISDICTION_ID"):
            value = str(current_app.config.get(setting) or "").lower()
            words += [value, *re.split(r"[^a-z0-9]+", value)]
    return [w for w in words if w]
# Real hashes, one per work factor, so that a sign-in for an unknown email costs as much
# as a real check.
_DUMMY_HASHES: dict[str, str] = {}


def password_method() -> str:
    """The key-derivation settings for new password hashes.

    In service always werkzeug's scrypt (n=32768, about a third of a second here). A test
    run may ask for a smaller work factor (``TEST_PASSWORD_METHOD``): the suite signs in
    thousands of times, and a hash names its own parameters, so checking one follows the
    same code whatever factor made it."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.testing:
        return current_app.config.get("TEST_PASSWORD_METHOD") or PASSWORD_METHOD
    return PASSWORD_METHOD


def _dummy_hash() -> str:
    method = password_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    """The user with that email, or None."""
    return db.session.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()


def check_password(password: str, *, email: str = "", display_name: str = "") -> None:
    """Refuse a password that is short, common or easy to guess, with a clear message."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("Use a password of at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    own_words = [email, display_name, *re.split(r"[^a-z0-9]+", normalise_email(email))]
    own_words += re.split(r"\W+", (display_name or "").lower())
    own_words += site_words()
    strength = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[w for w in own_words if w])
    if strength["score"] < MIN_PASSWORD_SCORE:
        raise DomainError(
            _(
                "That password is too common or too easy to guess. Try three or four "
                "unrelated words, or let your browser suggest one."
            ),
            field="password",
        )


def create_user(
    email: str,
    password: str,
    display_name: str,
    role: str = Role.RESIDENT,
    neighborhood_id: int | None = None,
    department_id: int | None = None,
    *,
    demo: bool = False,
) -> User:
    """Create an account; refuses a taken email, an unknown role or a weak password.

    ``demo`` is only for the demo city's seeded accounts, whose one password is
    published in the README anyway; every real way in checks the password.
    """
    if role not in {r.value for r in Role}:
        raise DomainError(_("Unknown role %(role)s.", role=role), field="role")
    if not demo:
        check_password(password, email=email, display_name=display_name)
    if find_by_email(email) is not None:
        raise DomainError(_("An account with that email already exists."), field="email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        password_hash=generate_password_hash(password, method=password_method()),
        neighborhood_id=neighborhood_id,
        department_id=department_id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session made before now stops working."""
    user.session_version = (user.session_version or 0) + 1


def set_password(user: User, password: str) -> None:
    """Replace a user's password and end every session made with the old one."""
    check_password(password, email=user.email, display_name=user.display_name)
    user.password_hash = generate_password_hash(password, method=password_method())
    end_sessions(user)
