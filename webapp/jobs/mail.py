"""E-mail plumbing: Flask-Mailman bound to the app, the embedded ``.eml`` file backend,
the public address used in links, and the background job that drains the e-mail outbox.

With ``MAIL_SERVER`` set, messages go out over SMTP (``MAIL_PORT``, ``MAIL_USE_TLS`` /
``MAIL_USE_SSL``, ``MAIL_USERNAME`` / ``MAIL_PASSWORD``). Without it (``make run``) each
message is written as one ``.eml`` file into ``<instance>/mail/`` and a log line says
where, so a newcomer sees every message without an SMTP server.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask_mailman.backends.base import BaseEmailBackend

from webapp.domain.notifications import alerts, outbox, public_address
from webapp.domain.notifications.email import addresses, email_channel, mail_queue
from webapp.jobs import runner as workers
from webapp.models import NotificationOutbox
from webapp.plumbing.deployment import public_url_setting
from webapp.plumbing.extensions import mail as mailman

WORKER_INTERVAL_SECONDS = 5
DIGEST_CHECK_SECONDS = 15 * 60


class EmlEmailBackend(BaseEmailBackend):
    """Writes each message to ``<instance>/mail/<time>-<random>.eml`` and logs the path.

    Open the files with any mail program (or read them as text) to see exactly what a
    resident would get.
    """

    def __init__(self, *args, file_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_path = Path(file_path or self.mailman.file_path)

    def send_messages(self, email_messages) -> int:
        """Write every message; returns how many were written."""
        self.file_path.mkdir(parents=True, exist_ok=True)
        written = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            path = self.file_path / f"{stamp}-{secrets.token_hex(4)}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\r\n"))
            current_app.logger.warning(
                "E-mail to %s saved as %s (MAIL_SERVER is not set, so nothing was sent)",
                ", ".join(message.recipients()),
                path,
            )
            written += 1
        return written


def public_url() -> str:
    """The app's public address for links in e-mail: ``PUBLIC_URL``, else from
    ``TRUSTED_HOSTS``, else (debug and tests only: production refuses to start without
    one) ``http://localhost:5000``. Never the ``Host`` a request came in with."""
    return public_url_setting(current_app.config) or public_address.FALLBACK_PUBLIC_URL


def _is_email_row(item: object) -> bool:
    """A transaction that added e-mail outbox rows leaves mail to send."""
    return isinstance(item, NotificationOutbox) and item.channel == mail_queue.EMAIL


workers.register("email", email_channel.deliver_due, every=WORKER_INTERVAL_SECONDS)
workers.register("email-digests", alerts.send_daily_digests, every=DIGEST_CHECK_SECONDS)
workers.wake_after_commit("email", _is_email_row)


@click.command("mail-digests")
def mail_digests_command() -> None:
    """Queue the daily digests of area alerts that are due (run from cron with
    BACKGROUND_WORKER=off; the notify-worker sends them)."""
    click.echo(f"mail-digests: queued {alerts.send_daily_digests()}")


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman: SMTP when ``MAIL_SERVER`` is set, ``.eml`` files otherwise."""
    if app.config.get("MAIL_SERVER"):
        app.config.setdefault("MAIL_BACKEND", "smtp")
    else:
        app.config.setdefault("MAIL_BACKEND", "webapp.jobs.mail.EmlEmailBackend")
        app.config.setdefault("MAIL_FILE_PATH", str(Path(app.instance_path) / "mail"))
    mailman.init_app(app)
    app.cli.add_command(mail_digests_command)
    app.extensions["civic311_public_url"] = public_url
    app.jinja_env.globals.update(
        delivery_log=outbox.delivery_log, bounced_address=addresses.bounced_address
    )
