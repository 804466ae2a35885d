"""Flask commands: ``flask --app webapp seed-demo | create-user | api-key …``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from webapp.domain.errors import DomainError
from webapp.domain.people import accounts, api_keys
from webapp.models import ApiKey, Neighborhood, Role, ServiceRequest
from webapp.operations import backup_cli
from webapp.plumbing.extensions import db


@click.command("seed-demo")
@click.option(
    "--requests",
    "request_count",
    default=300,
    show_default=True,
    help="How many demo requests to create when there are none.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when requests already exist.")
def seed_demo_command(request_count: int, if_empty: bool) -> None:
    """Seed the Chattanooga demo city (deterministic, safe to run again)."""
    from webapp.seed.demo import seed_demo

    if if_empty and db.session.scalar(select(func.count(ServiceRequest.id))):
        click.echo("Demo city already seeded; nothing to do.")
        return
    result = seed_demo(request_count)
    click.echo(f"Seeded Chattanooga: {result['requests_created']} new requests.")
    click.echo("Development accounts (do not use in production):")
    for email, password, role in result["users"]:
        click.echo(f"  {role:<9} {email:<26} {password}")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="resident", show_default=True
)
@click.option("--neighborhood", help="Neighborhood name (for liaisons).")
@click.password_option()
def create_user_command(
    email: str, name: str, role: str, neighborhood: str | None, password: str
) -> None:
    """Create an account with a role (staff, liaison and admin accounts are made here)."""
    hood_id = None
    if neighborhood:
        hood = db.session.scalars(
            select(Neighborhood).where(Neighborhood.name == neighborhood)
        ).first()
        if hood is None:
            raise click.ClickException(f"No neighborhood named {neighborhood!r}.")
        hood_id = hood.id
    try:
        user = accounts.create_user(email, password, name, role, neighborhood_id=hood_id)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@click.group("api-key")
def api_key_group() -> None:
    """Issue, list and revoke Open311 API keys."""


@api_key_group.command("issue")
@click.argument("name")
def issue_api_key(name: str) -> None:
    """Issue a key for NAME; the key is printed once and stored only as a hash."""
    key, record = api_keys.issue(name)
    db.session.commit()
    click.echo(f"API key for {record.name} (id {record.id}); keep it now, it is not shown again:")
    click.echo(key)


@api_key_group.command("list")
def list_api_keys() -> None:
    """List keys by prefix (never the key)."""
    for record in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
        state = "revoked" if record.revoked else "active"
        click.echo(f"{record.id:>4}  {record.prefix}…  {state:<8} {record.name}")


@api_key_group.command("revoke")
@click.argument("key_id", type=int)
def revoke_api_key(key_id: int) -> None:
    """Revoke the key with that id."""
    record = db.session.get(ApiKey, key_id)
    if record is None:
        raise click.ClickException(f"No API key with id {key_id}.")
    api_keys.revoke(record)
    db.session.commit()
    click.echo(f"Revoked {record.prefix}… ({record.name}).")


@click.command("purge-personal-data")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge_personal_data_command(dry_run: bool) -> None:
    """Remove contact details of requests closed longer ago than CONTACT_RETENTION_MONTHS
    (run it from cron, e.g. nightly)."""
    from flask import current_app

    from webapp.domain.lifecycle import retention
    from webapp.models import utcnow

    months = int(current_app.config.get("CONTACT_RETENTION_MONTHS") or 0)
    if months <= 0:
        click.echo("CONTACT_RETENTION_MONTHS is 0: contact details are kept; nothing to do.")
        return
    found = retention.purge_expired(utcnow(), months, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} personal data of requests closed over {months} months ago:")
    for kind, count in found.as_dict().items():
        if kind in ("requests", "contacts", "messages", "inbound_mail"):
            click.echo(f"  {kind.replace('_', ' ')}: {count}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    from webapp.citypack.cli import city_group
    from webapp.opendata.views import export_open_data_command, rebuild_rollups_command

    for command in (
        seed_demo_command,
        create_user_command,
        api_key_group,
        export_open_data_command,
        rebuild_rollups_command,
        purge_personal_data_command,
        city_group,
    ):
        app.cli.add_command(command)
    backup_cli.init_app(app)
