"""Welcome mail for accounts a city pack creates: a single-use link to set a password.

A pack never carries passwords. Each new staff member or liaison gets a signed link
(valid for a week, usable once) through the mail outbox, queued in the transaction
that creates the account, so nobody is mailed about an account that was rolled back.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from webapp.domain.notifications.email import mail_queue
from webapp.domain.people import accounts, links
from webapp.models import User


def queue_set_password(user: User, *, base_url: str) -> None:
    """Queue the set-your-password e-mail for ``user`` (caller commits)."""
    token = links.make(links.SET_PASSWORD, u=user.id, e=user.email)
    url = f"{base_url.rstrip('/')}/auth/set-password/{token}"
    with force_locale(user.locale or "en"):
        subject = _("Set your password for the city's 311")
        lines = [
            _("An account was made for you on the city's 311 (%(role)s).", role=user.role),
            _("Choose your password here:"),
            url,
            _("The link works once, within %(days)d days.", days=links.SET_PASSWORD_DAYS),
        ]
    html = "".join(f"<p>{line}</p>" for line in lines[:2]) + (
        f'<p><a href="{url}">{url}</a></p><p>{lines[3]}</p>'
    )
    mail_queue.queue_email(user.email, subject, "\n\n".join(lines), html, kind="set_password")


def check_token(token: str) -> User:
    """The account a set-password link is for (LinkError when tampered, expired, used)."""
    from webapp.plumbing.extensions import db

    link = links.read(links.SET_PASSWORD, token)
    user = db.session.get(User, link.data.get("u"))
    if user is None or user.email != link.data.get("e"):
        raise links.LinkError("tampered")
    return user


def set_password(token: str, password: str) -> User:
    """Use the link once to set the password (caller commits; DomainError on a weak one)."""
    link = links.read(links.SET_PASSWORD, token)
    user = check_token(token)
    accounts.set_password(user, password)
    links.use(link)
    return user
