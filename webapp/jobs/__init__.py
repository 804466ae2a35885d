"""Jobs that run after commit: the one runner (``runner``) and the job kinds registered
to it, each with the worker command production runs it with.

Kinds: ``push`` and ``email`` (the notification outbox; ``flask notify-worker``),
``email-digests`` (area alert digests; ``flask mail-digests``), ``forward`` (the city's
CRM; ``flask forward-worker``), ``mail-intake`` (the 311 mailbox; ``flask mail-intake``)
``text`` (text-message notifications; ``flask text-worker``) and ``geocode``
(addresses of new reports; ``flask geocode-pending``).

May import: the domain's rules (a job calls them), plumbing and the models. Nothing in
the domain imports a job.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every job kind with the runner and its commands with the app, then let
    the runner start (a thread at the first request, with ``BACKGROUND_WORKER=thread``)."""
    from webapp.jobs import forwarding, geocoding, mail, mail_intake, push, runner, text

    for kind in (push, mail, text, forwarding, mail_intake, geocoding):
        kind.init_app(app)
    runner.init_app(app)
