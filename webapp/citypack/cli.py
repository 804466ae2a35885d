"""``flask city apply PATH``, ``flask city import-services URL`` and
``flask city import-requests``: a city's setup and its history, with no code."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.citypack.problems import PackError


@click.group("city")
def city_group() -> None:
    """Set up a city from its pack, and bring its catalogue and history over."""


def _fail(error: PackError) -> None:
    click.echo("Nothing was changed. The pack has these problems:", err=True)
    for problem in error.problems:
        click.echo(f"  - {problem}", err=True)
    raise SystemExit(1)


@city_group.command("apply")
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the pack and say what would change.")
@with_appcontext
def apply_command(path: str, dry_run: bool) -> None:
    """Apply the city pack in PATH (city.toml at its root); safe to run again."""
    from webapp.citypack.apply import apply_pack
    from webapp.citypack.reader import read_pack

    try:
        pack = read_pack(path, current_app.config["SUPPORTED_LOCALES"])
        report = apply_pack(pack, dry_run=dry_run)
    except PackError as error:
        _fail(error)
    name = pack.settings["name"]
    if not report.changes:
        click.echo(f"{name}: the pack is already applied; nothing changed.")
        return
    verb = "would change" if dry_run else "changed"
    click.echo(f"{name}: {len(report.changes)} thing(s) {verb}:")
    for line in report.changes:
        click.echo(f"  {line}")
    if dry_run:
        click.echo("Dry run: nothing was written.")
