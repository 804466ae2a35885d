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
    from webapp.citypack.reading.pack import read_pack

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


def _timeout() -> float:
    return float(current_app.config.get("IMPORT_TIMEOUT", 20))


@city_group.command("import-services")
@click.argument("url")
@click.option("--jurisdiction", help="The remote endpoint's jurisdiction_id, if it needs one.")
@click.option("--department", help="Put every service in this department (default: a "
              "department per remote group).")
@with_appcontext
def import_services_command(url: str, jurisdiction: str | None, department: str | None) -> None:
    """Import the service catalogue from an Open311 GeoReport v2 endpoint at URL."""
    from webapp.citypack.import_services import import_services
    from webapp.citypack.remote import RemoteError

    try:
        report = import_services(url, timeout=_timeout(), jurisdiction=jurisdiction,
                                 department=department)
    except RemoteError as error:
        click.echo(f"Nothing was imported: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{report.seen} services read; {len(report.changes)} change(s).")
    for line in report.changes:
        click.echo(f"  {line}")
    for line in report.skipped:
        click.echo(f"  skipped {line}")


def _print_import(report) -> None:
    click.echo(f"{report.source}: {report.imported:,} imported, {report.already:,} already "
               f"there, {report.rejected:,} rejected; {report.timeline:,} timeline entries "
               f"written; /stats and the map counts rebuilt from {report.rollups_from:,} "
               "requests.")
    for reason in report.reasons:
        click.echo(f"  rejected: {reason}")
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}", err=True)
        click.echo("What was imported so far is kept; run the same command again to go on.",
                   err=True)
        raise SystemExit(1)


@city_group.command("import-requests")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="A CSV of old requests (needs --mapping).")
@click.option("--mapping", type=click.Path(dir_okay=False),
              help="TOML naming the CSV's columns, statuses and request types.")
@click.option("--open311", "url", help="An Open311 GeoReport v2 endpoint to read requests from.")
@click.option("--since", type=click.DateTime(), help="Open311: first day (default 1 year ago).")
@click.option("--until", type=click.DateTime(), help="Open311: last moment (default now).")
@click.option("--window-days", default=30, show_default=True, help="Open311: days per call.")
@click.option("--jurisdiction", help="Open311: the remote jurisdiction_id.")
@click.option("--source", help="Open311: name marking these requests (default: the host).")
@click.option("--prefix", default="OLD-", show_default=True,
              help="Put before the old id to make the request number residents see.")
@click.option("--restart", is_flag=True, help="Start from the beginning, not where the last "
              "run stopped (nothing is imported twice either way).")
@with_appcontext
def import_requests_command(csv_path, mapping, url, since, until, window_days, jurisdiction,
                            source, prefix, restart) -> None:
    """Import old requests from a CSV (with a mapping file) or an Open311 endpoint."""
    from datetime import UTC, timedelta

    from webapp.citypack import import_requests as imports
    from webapp.models import utcnow

    if bool(csv_path) == bool(url):
        raise click.UsageError("Give either --csv with --mapping, or --open311 URL.")
    try:
        if csv_path:
            if not mapping:
                raise click.UsageError("--csv needs --mapping.")
            rules = imports.read_mapping(mapping)
            report = imports.import_csv(csv_path, rules, restart=restart)
        else:
            now = utcnow()
            report = imports.import_open311(
                url,
                since=since.replace(tzinfo=UTC) if since else now - timedelta(days=365),
                until=until.replace(tzinfo=UTC) if until else now,
                window=timedelta(days=window_days),
                timeout=_timeout(),
                max_pages=int(current_app.config.get("IMPORT_MAX_PAGES", 10_000)),
                source=source,
                jurisdiction=jurisdiction,
                restart=restart,
                prefix=prefix,
            )
    except PackError as error:
        _fail(error)
    _print_import(report)
