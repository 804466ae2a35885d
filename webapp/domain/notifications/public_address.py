"""The public address every link sent to a person starts with (e-mail, text, staff alerts).

A link in a message must never be built from the address a web request happened to use
(anyone can send a forged ``Host``): the app registers one provider of the public address
at start-up (``civic311_public_url``, from ``PUBLIC_URL`` or ``TRUSTED_HOSTS``), and every
channel reads it here, so no channel needs another channel for it.
"""

from __future__ import annotations

from flask import current_app

# Links when no public address is set (debug and tests only: production refuses to
# start without one).
FALLBACK_PUBLIC_URL = "http://localhost:5000"


def base_url() -> str:
    """The public address links in messages start with (see ``webapp.jobs.mail``)."""
    provider = current_app.extensions.get("civic311_public_url")
    return provider() if provider else FALLBACK_PUBLIC_URL
