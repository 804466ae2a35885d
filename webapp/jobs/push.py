"""Push delivery plumbing: the ``push keys`` and ``notify-worker`` commands, the embedded
worker job, and the after-commit nudge that wakes it.

``notify.on_event`` adds outbox rows inside the transaction of a change. When a commit
carried such rows, the embedded worker thread (``BACKGROUND_WORKER=thread``) is kicked
so the push goes out within moments; otherwise it runs every few seconds anyway.
Production runs ``flask --app webapp notify-worker`` processes instead (any number).
"""

from __future__ import annotations

import click
from flask import Flask

from webapp.domain.notifications import staff_alerts
from webapp.domain.notifications.email import email_channel
from webapp.domain.notifications.push import push_channel, push_sender
from webapp.jobs import runner as workers
from webapp.models import NotificationOutbox

WORKER_INTERVAL_SECONDS = 5
OVERDUE_CHECK_SECONDS = 60


def _is_outbox_row(item: object) -> bool:
    """A transaction that added outbox rows leaves pushes to deliver."""
    return isinstance(item, NotificationOutbox)


@click.group("push")
def push_group() -> None:
    """Web Push: VAPID keys."""


@push_group.command("keys")
def push_keys_command() -> None:
    """Print the VAPID public key, generating the key pair into the instance folder once."""
    click.echo(push_sender.public_key())


@click.command("notify-worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval",
    default=WORKER_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
def notify_worker_command(once: bool, interval: float) -> None:
    """Deliver queued push notifications and e-mail in a loop (several may run side by side)."""
    push_sender.pusher()
    click.echo("notify-worker: delivering push notifications and e-mail (Ctrl+C to stop)")
    workers.run_until_stopped(
        "notify-worker",
        lambda: staff_alerts.escalate_overdue() + push_channel.deliver_due() + email_channel.deliver_due(),
        once=once,
        interval=interval,
        report="sent {}",
    )


workers.register("push", push_channel.deliver_due, every=WORKER_INTERVAL_SECONDS)
# Overdue requests are escalated to their department's supervisors once a minute, batched.
workers.register("overdue", staff_alerts.escalate_overdue, every=OVERDUE_CHECK_SECONDS)
workers.wake_after_commit("push", _is_outbox_row)


def init_app(app: Flask) -> None:
    """Register the commands and the after-commit nudge."""
    app.cli.add_command(push_group)
    app.cli.add_command(notify_worker_command)
