"""Accounts: creation, password checks and roles. Passwords use scrypt (a modern KDF)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import Role, User

PASSWORD_METHOD = "scrypt"
# A real hash so that a sign-in for an unknown email costs as much as a real check.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    """The user with that email, or None."""
    return db.session.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()


def create_user(
    email: str,
    password: str,
    display_name: str,
    role: str = Role.RESIDENT,
    neighborhood_id: int | None = None,
    department_id: int | None = None,
) -> User:
    """Create an account; refuses a taken email or an unknown role."""
    if role not in {r.value for r in Role}:
        raise DomainError(_("Unknown role %(role)s.", role=role), field="role")
    if len(password or "") < 10:
        raise DomainError(_("Use a password of at least 10 characters."), field="password")
    if find_by_email(email) is not None:
        raise DomainError(_("An account with that email already exists."), field="email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
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
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password."""
    if len(password or "") < 10:
        raise DomainError(_("Use a password of at least 10 characters."), field="password")
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
