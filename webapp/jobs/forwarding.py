"""Forwarding plumbing: the ``forward-worker`` command, the embedded worker job, and
the after-commit nudge that wakes it when a request was queued for the city's CRM.

With ``BACKGROUND_WORKER=thread`` the embedded worker sends and pulls every
``WORKER_INTERVAL_SECONDS`` (and at once after a commit that queued a request).
Production runs ``flask --app webapp forward-worker`` instead; several may run, as
each forwarding is claimed with a lease before it is sent.
"""

from __future__ import annotations

import click
from flask import Flask

from webapp.domain.open311.forwarding import sending
from webapp.jobs import runner as workers
from webapp.models import Forwarding

WORKER_INTERVAL_SECONDS = 60


@click.command("forward-worker")
@click.option("--once", is_flag=True, help="Send what is due and pull updates once, then exit.")
@click.option(
    "--interval",
    default=WORKER_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds between rounds.",
)
def forward_worker_command(once: bool, interval: float) -> None:
    """Send requests to the city's Open311 CRM and pull its updates back, in a loop."""
    click.echo("forward-worker: forwarding to the city's CRM (Ctrl+C to stop)")
    workers.run_until_stopped(
        "forward-worker",
        sending.run_once,
        once=once,
        interval=interval,
        report="{} sent or updated",
    )


workers.register("forward", sending.run_once, every=WORKER_INTERVAL_SECONDS)
workers.wake_after_commit("forward", lambda item: isinstance(item, Forwarding))


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(forward_worker_command)
