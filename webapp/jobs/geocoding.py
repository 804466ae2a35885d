"""Geocoding as a job: the ``geocode`` kind (addresses of new reports, every 30 seconds
and at once after a report that needs one commits) and ``flask geocode-pending``."""

from __future__ import annotations

import time

import click
from flask import Flask

from webapp.domain.geo.geocoding import geocode_pending
from webapp.jobs import runner
from webapp.plumbing.extensions import db


@click.command("geocode-pending")
@click.option("--limit", default=20, show_default=True, help="Requests per batch.")
@click.option("--loop", is_flag=True, help="Keep going every 30 seconds (a worker process).")
def geocode_pending_command(limit: int, loop: bool) -> None:
    """Fill in addresses of new requests from the geocoder (retried when it is down)."""
    while True:
        click.echo(f"Geocoded {geocode_pending(limit)} requests.")
        if not loop:
            return
        db.session.remove()
        time.sleep(30)


runner.register("geocode", geocode_pending, every=30)


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(geocode_pending_command)
