"""Text-message delivery: the ``text`` job kind and the ``text-worker`` command.

``notifications.text.on_change`` adds outbox rows (channel ``text``) inside the
transaction of a change; a commit that carried one wakes the embedded worker, which
otherwise runs every few seconds. Production may run ``flask --app webapp text-worker``
processes instead (any number: rows are claimed with a lease).
"""

from __future__ import annotations

import click
from flask import Flask

from webapp.domain.notifications import text
from webapp.jobs import runner as workers
from webapp.models import NotificationOutbox

WORKER_INTERVAL_SECONDS = 5


def _is_text_row(item: object) -> bool:
    """A transaction that added text outbox rows leaves texts to send."""
    return isinstance(item, NotificationOutbox) and item.channel == text.TEXT


@click.command("text-worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", default=WORKER_INTERVAL_SECONDS, show_default=True)
def text_worker_command(once: bool, interval: float) -> None:
    """Deliver queued text-message notifications in a loop."""
    workers.run_until_stopped(
        "text-worker", text.deliver_due, once=once, interval=interval, report="sent {}"
    )


workers.register("text", text.deliver_due, every=WORKER_INTERVAL_SECONDS)
workers.wake_after_commit("text", _is_text_row)


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(text_worker_command)
