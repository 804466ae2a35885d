"""Plumbing of the front door: the e-mail intake's command and job, and the channel
figures. (Outgoing mail is bound in ``webapp.jobs.mail``.)"""

from __future__ import annotations

import click
from flask import Flask, current_app

from webapp.jobs import runner as workers

MAIL_INTAKE_EVERY_SECONDS = 60


def run_mail_intake() -> int:
    """One poll of the 311 mailbox (nothing when IMAP_HOST is unset); how many handled."""
    from webapp.domain.intake import mailbox

    if not mailbox.is_configured(current_app.config):
        return 0
    result = mailbox.poll()
    return len(result.outcomes)


@click.command("mail-intake")
@click.option("--loop", is_flag=True, help="Keep polling every minute (a worker process).")
def mail_intake_command(loop: bool) -> None:
    """Read the 311 mailbox once (or forever with --loop): new e-mails become requests."""
    import time

    from webapp.domain.intake import mailbox

    if not mailbox.is_configured(current_app.config):
        raise click.ClickException("E-mail intake is off: set IMAP_HOST (and IMAP_USER, …).")
    while True:
        result = mailbox.poll()
        counts: dict[str, int] = {}
        for outcome in result.outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing new"
        click.echo(
            f"mail intake: {summary}" if result.ok else f"mail intake failed: {result.error}"
        )
        if not loop:
            if not result.ok:
                raise SystemExit(1)
            return
        time.sleep(MAIL_INTAKE_EVERY_SECONDS)


workers.register("mail-intake", run_mail_intake, every=MAIL_INTAKE_EVERY_SECONDS)


def init_app(app: Flask) -> None:
    """Register ``flask mail-intake`` and the /stats channel figures."""
    app.cli.add_command(mail_intake_command)
    app.add_template_global(_channel_figures, "channel_figures")


def _channel_figures():
    """The public channel figures for the /stats section."""
    from webapp.domain.figures import channel_stats

    return channel_stats.weekly()
