"""The checks that matter before a city goes live, each green or red with what to do.

Shown on the admin's City settings page. Network checks (tiles, geocoder) make one
short request each through ``probe``, which a caller may replace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests as http
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.models import (
    CityBoundary,
    Department,
    NotificationOutbox,
    RoutingRule,
    Service,
    utcnow,
)
from webapp.plumbing.deployment import weak_secret_key
from webapp.plumbing.extensions import db

PROBE_TIMEOUT = 3.0
WORKER_LATE = timedelta(minutes=10)
STATIC_ROOT = Path(__file__).resolve().parents[1] / "static"


@dataclass(frozen=True)
class Check:
    """One go-live check: ``ok`` or not, what was found, and what to do when red."""

    key: str
    ok: bool
    title: str
    detail: str
    fix: str = ""


def probe(url: str) -> str | None:
    """None when ``url`` answers 2xx/3xx within the timeout, else why not."""
    if url.startswith("/"):
        path = STATIC_ROOT / urlsplit(url).path.removeprefix("/static/")
        return None if path.is_file() else _("no such file")
    try:
        answer = http.get(url, timeout=PROBE_TIMEOUT, allow_redirects=False,
                          headers={"User-Agent": current_app.config["GEOCODER_USER_AGENT"]})
    except http.RequestException as error:
        return type(error).__name__
    return None if answer.status_code < 400 else f"HTTP {answer.status_code}"


def _boundary() -> Check:
    ok = db.session.scalar(select(func.count(CityBoundary.id))) > 0
    return Check("boundary", ok, _("City boundary"),
                 _("Loaded.") if ok else _("No boundary: reports are accepted anywhere."),
                 _("Add boundary.geojson to the city pack and run flask city apply."))


def _services_in_departments() -> Check:
    orphans = list(db.session.scalars(
        select(Service.service_code).where(Service.active.is_(True),
                                           Service.department_id.is_(None))
        .order_by(Service.service_code)
    ))
    total = db.session.scalar(select(func.count(Service.id)).where(Service.active.is_(True)))
    ok = total > 0 and not orphans
    detail = (_("%(n)d services, each in a department.", n=total) if ok else
              _("No services yet.") if not total else
              _("Without a department: %(codes)s", codes=", ".join(orphans[:20])))
    return Check("services", ok, _("Every service in a department"), detail,
                 _("Give each service a department in services.csv (or in Services)."))


def _departments_reachable() -> Check:
    routed = set(db.session.scalars(
        select(Service.department_id).where(Service.active.is_(True),
                                            Service.department_id.is_not(None))
    )) | set(db.session.scalars(
        select(RoutingRule.department_id).where(RoutingRule.active.is_(True))
    ))
    unreached = list(db.session.scalars(
        select(Department.name).where(Department.id.not_in(routed or {0}))
        .order_by(Department.name)
    ))
    ok = not unreached and bool(routed)
    detail = (_("Every department receives requests.") if ok else
              _("No request can reach: %(names)s", names=", ".join(unreached))
              if unreached else _("No departments yet."))
    return Check("routing", ok, _("Every department reachable by routing"), detail,
                 _("Give the department a service or a routing rule, or remove it."))


def _tiles(config) -> Check:
    url = config["TILE_URL"].replace("{z}", "12").replace("{x}", "1050").replace("{y}", "1520")
    url = url.replace("{s}", "a")
    problem = probe(url)
    return Check("tiles", problem is None, _("Map tiles answer"),
                 _("%(host)s answers.", host=urlsplit(url).netloc or url) if problem is None
                 else _("%(url)s: %(problem)s", url=url, problem=problem),
                 _("Check TILE_URL (or [map] in city.toml) and the tile server's terms."))


def _geocoder(config) -> Check:
    url = f"{config['GEOCODER_SCHEME']}://{config['GEOCODER_DOMAIN']}/status"
    problem = probe(url)
    return Check("geocoder", problem is None, _("Geocoder answers"),
                 _("%(url)s answers.", url=url) if problem is None
                 else _("%(url)s: %(problem)s", url=url, problem=problem),
                 _("Check GEOCODER_DOMAIN and GEOCODER_USER_AGENT (or [geocoder] in "
                   "city.toml)."))


def _mail(config) -> Check:
    ok = bool(config.get("MAIL_SERVER"))
    return Check("mail", ok, _("Mail configured"),
                 _("Sending through %(server)s.", server=config.get("MAIL_SERVER")) if ok
                 else _("No MAIL_SERVER: e-mail is written to files, not sent."),
                 _("Set MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD and "
                   "MAIL_DEFAULT_SENDER."))


def _public_url(config) -> Check:
    ok = bool(config.get("PUBLIC_URL"))
    return Check("public_url", ok, _("PUBLIC_URL set"),
                 config.get("PUBLIC_URL") or _("Not set: links in e-mail use whatever "
                                               "address a request came in on."),
                 _("Set PUBLIC_URL (or public_url in city.toml) to the address residents "
                   "use."))


def _trusted_hosts(config) -> Check:
    hosts = config.get("TRUSTED_HOSTS")
    return Check("trusted_hosts", bool(hosts), _("TRUSTED_HOSTS set"),
                 ", ".join(hosts) if hosts else _("Not set: any Host header is answered."),
                 _("Set TRUSTED_HOSTS to the public host name, e.g. 311.city.gov."))


def _secret_key(config) -> Check:
    ok = not weak_secret_key(config.get("SECRET_KEY"))
    return Check("secret_key", ok, _("A strong SECRET_KEY"),
                 _("Long and not a known value.") if ok else _("Short or a known value."),
                 _("Set SECRET_KEY to at least 32 random characters, the same on every "
                   "server."))


def _workers() -> Check:
    late = db.session.scalar(
        select(func.min(NotificationOutbox.next_attempt_at)).where(
            NotificationOutbox.state == "pending",
            NotificationOutbox.next_attempt_at < utcnow() - WORKER_LATE,
        )
    )
    ok = late is None
    return Check("workers", ok, _("Workers alive"),
                 _("No message waits longer than 10 minutes.") if ok
                 else _("Messages have waited since %(when)s.", when=late.isoformat(
                     timespec="minutes")),
                 _("Start the workers (BACKGROUND_WORKER=thread, or the notify and mail "
                   "workers) and check their logs."))


def go_live_checks() -> list[Check]:
    """Every check, in the order the page shows them."""
    config = current_app.config
    return [
        _boundary(),
        _services_in_departments(),
        _departments_reachable(),
        _tiles(config),
        _geocoder(config),
        _mail(config),
        _public_url(config),
        _trusted_hosts(config),
        _secret_key(config),
        _workers(),
    ]
