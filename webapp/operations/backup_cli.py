"""``flask backup`` and ``flask restore``: thin commands over ``webapp.operations.backup``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import Flask, current_app

from webapp.operations import backup

PG_BIN_HELP = "Folder holding pg_dump/pg_restore of the server's version (default: PATH)."


@click.command("backup")
@click.option(
    "--to", "destination", type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the backup into (default: INSTANCE_DIR/backups).",
)
@click.option("--pg-bin", default=None, help=PG_BIN_HELP)
def backup_command(destination: Path | None, pg_bin: str | None) -> None:
    """Back up the database and the photos, with a manifest of counts and checksums."""
    started = time.monotonic()
    target = destination or Path(current_app.instance_path) / "backups"
    try:
        folder = backup.make_backup(target, pg_bin=pg_bin)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    manifest = json.loads((folder / backup.MANIFEST).read_text())
    click.echo(f"Backed up to {folder} in {time.monotonic() - started:.1f} s")
    click.echo(backup.describe(manifest))


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@click.option("--pg-bin", default=None, help=PG_BIN_HELP)
def restore_command(folder: Path, yes: bool, pg_bin: str | None) -> None:
    """Replace the database and photos with a backup, then compare every table's count.

    Stop the app servers and workers first. Exits non-zero when a count differs.
    """
    if not yes:
        click.confirm("This replaces everything in the database. Go on?", abort=True)
    started = time.monotonic()
    try:
        restored = backup.restore_backup(folder, pg_bin=pg_bin)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    seconds = time.monotonic() - started
    rows = sum(restored.found.values())
    click.echo(
        f"Restored {rows} rows in {len(restored.found)} tables and {restored.photos} photo "
        f"files from {folder} in {seconds:.1f} s"
    )
    if restored.mismatched:
        for name in restored.mismatched:
            click.echo(
                f"  {name}: backup {restored.expected.get(name)}, "
                f"now {restored.found.get(name)}"
            )
        raise click.ClickException("Row counts differ from the backup's manifest.")
    click.echo("Every table's row count matches the manifest.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
