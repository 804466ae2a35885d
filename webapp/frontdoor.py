"""Plumbing of the front door: outgoing mail and the e-mail intake job and command."""

from __future__ import annotations

from flask import Flask

from webapp.extensions import mail


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman; register ``flask mail-intake`` and the background intake job."""
    mail.init_app(app)
