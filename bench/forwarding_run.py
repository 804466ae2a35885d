"""Forwarding to a city's CRM, proven end to end against two kinds of CRM.

    nice -n 19 .venv/bin/python bench/forwarding_run.py [--requests 50] [--database both]

For each CRM — a second Civic311 (mySociety's updates feed, Idempotency-Key) and a
strict GeoReport v2 server (``tests/fakes/georeport.py``: services and requests only,
no extensions, no idempotency, no updates feed) — and for each database (SQLite files
in a temporary folder; PostgreSQL at ``--database-url``, default
``$TEST_DATABASE_URL``, in two databases named after it with ``_fwd_here`` and
``_fwd_crm``), it serves our Civic311 and the CRM on 127.0.0.1 and plays a city's
week through the forward worker's own rounds (``forwarding.sending.run_once``):

1. ``--requests`` reports: a third with a photo (sent as a signed, expiring
   ``media_url`` the CRM fetches), a fifth without coordinates (a landmark only),
   a third with an e-mail address;
2. the CRM is down (503 on every call) for six worker rounds — three minutes at the
   worker's 30-second first wait, time passing by making the rows due — and then
   the answers to three POSTs are lost after the CRM stored them (a 504 from the proxy
   in front): the next try looks the request up and never sends it blind;
3. the CRM acknowledges and closes half of them within one pull interval (its own
   clock a minute before our pull), and closes the rest with a reason and a note;
4. the worker stops; the CRM takes 1,050 public notes on other requests city-wide and
   closes three of ours during the outage; the worker starts again;
5. residents reopen up to ten closed requests, half of them without an e-mail; the
   CRM closes them again and the closures come back;
6. staff write public notes on two requests (a CRM without the updates extension
   cannot take them: each must be on the staff page with the CRM's reason).

Prints, per CRM and database, the counts the city cares about and exits 1 when any is
wrong: requests arrived once, photos, closures back with reason and note (fast ones and
the backlog included), reopenings reaching the CRM, duplicates, losses, and failures
shown to staff.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, select, text, update  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from tests import factories  # noqa: E402
from tests.api.test_open311 import jpeg_bytes  # noqa: E402
from tests.conftest import _config_dict  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes.georeport import StrictGeoReport  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.domain.lifecycle import after_closure, submission, workflow  # noqa: E402
from webapp.domain.lifecycle import requests as rules  # noqa: E402
from webapp.domain.open311.forwarding import crm_payloads, sending  # noqa: E402
from webapp.domain.people import api_keys, devices  # noqa: E402
from webapp.models import (  # noqa: E402
    EventKind,
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    RequestEvent,
    ServiceRequest,
    utcnow,
)
from webapp.plumbing.extensions import db  # noqa: E402

BACKLOG = 1050
CENTRE = "35.045,-85.31"


class Switch:
    """Stands in front of a CRM: ``down`` answers 503 to everything; ``lose`` stores
    the next POSTs of requests and loses their answers (504)."""

    def __init__(self, app) -> None:
        self.app, self.down, self.lose, self.posts = app, False, 0, 0

    def __call__(self, environ, start_response):
        if self.down:
            return Response("down", status=503)(environ, start_response)
        posting = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith(
            "/requests.xml"
        )
        if posting:
            self.posts += 1
        if posting and self.lose:
            self.lose -= 1
            for _chunk in self.app(environ, lambda *a, **k: None):
                pass
            return Response("gateway timeout", status=504)(environ, start_response)
        return self.app(environ, start_response)


@dataclass
class Counts:
    """What one run proved."""

    sent: int = 0
    arrived_once: int = 0
    photos_here: int = 0
    photos_there: int = 0
    closures_wanted: int = 0
    closures_back: int = 0
    reopenings: int = 0
    reopenings_there: int = 0
    duplicates: int = 0
    losses: int = 0
    staff_failures_shown: int = 0
    staff_failures: int = 0
    answers_lost: int = 0
    posts: int = 0

    def line(self) -> str:
        return (
            f"requests arrived once: {self.arrived_once}/{self.sent}; "
            f"photos: {self.photos_there}/{self.photos_here}; "
            f"closures back with reason and note: {self.closures_back}/{self.closures_wanted}; "
            f"reopenings reaching the CRM: {self.reopenings_there}/{self.reopenings}; "
            f"duplicates: {self.duplicates}; losses: {self.losses}; "
            f"failures shown to staff: {self.staff_failures_shown}/{self.staff_failures} "
            f"(answers lost: {self.answers_lost}; POSTs of requests: {self.posts})"
        )

    def good(self) -> bool:
        return (
            self.arrived_once == self.sent
            and self.photos_there == self.photos_here
            and self.closures_back == self.closures_wanted
            and self.reopenings_there == self.reopenings
            and self.duplicates == 0
            and self.losses == 0
            and self.staff_failures_shown == self.staff_failures
        )


def _database(kind: str, folder: Path, url: str | None, role: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / (role + '.db')}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + f"_fwd_{role}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def _app(uri: str, folder: Path, role: str, **settings):
    app = create_app(
        {
            **_config_dict(),
            "SQLALCHEMY_DATABASE_URI": uri,
            "UPLOAD_DIR": str(folder / role / "uploads"),
            "INSTANCE_DIR": str(folder / role),
            **settings,
        }
    )
    with app.app_context():
        upgrade()
        factories.gen_city()
        db.session.commit()
    return app


def _due_now() -> None:
    """Time passes: every waiting row is due (the worker's growing waits, skipped)."""
    now = utcnow()
    db.session.execute(update(Forwarding).values(next_attempt_at=now, claimed_until=None))
    db.session.execute(update(ForwardedUpdate).values(next_attempt_at=now, claimed_until=None))
    db.session.commit()


def _rounds(count: int) -> None:
    for _round in range(count):
        _due_now()
        sending.run_once()


class Civic311Crm:
    """The second Civic311 as the city's CRM."""

    kind = "civic311"

    def __init__(self, uri: str, folder: Path) -> None:
        self.app = _app(uri, folder, "crm", JURISDICTION_ID="crm.example.gov",
                        MEDIA_FETCH_ALLOW_HOSTS="127.0.0.1")
        with self.app.app_context():
            self.key, _record = api_keys.issue("Civic311 front door")
            db.session.commit()
            self.staff_id = factories.gen_user("staff").id
            db.session.commit()
        self.switch = Switch(self.app)
        self.running = serve(self.switch)
        self.endpoint = self.running.url + "/open311/v2/"
        self.jurisdiction = "crm.example.gov"

    def _in(self, work):
        with self.app.app_context():
            result = work()
            db.session.commit()
            return result

    def act(self, external_id: str, status: str, note: str, *, seconds_ago: int = 0,
            resolution: str | None = None) -> None:
        def work():
            from webapp.models import User

            item = rules.get_by_public_id(external_id)
            event = workflow.transition(item, status, db.session.get(User, self.staff_id),
                                     note=note, resolution=resolution)
            if seconds_ago:
                event.created_at = utcnow() - timedelta(seconds=seconds_ago)

        self._in(work)

    def backlog(self, count: int, since) -> None:
        def work():
            other = factories.gen_request("pothole", description="City-wide chatter")
            db.session.add_all(
                RequestEvent(request_id=other.id, kind=EventKind.PUBLIC_NOTE, public=True,
                             note=f"Note {n}", data={}, created_at=since + timedelta(seconds=n))
                for n in range(count)
            )

        self._in(work)

    def all(self) -> list[dict]:
        def work():
            return [
                {"id": r.public_id, "description": r.description or "", "status": r.status,
                 "photos": len(r.photos), "reopened": r.reopened}
                for r in db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id))
                if r.channel == "open311"
            ]

        return self._in(work)

    def stop(self) -> None:
        self.running.stop()


class StrictCrm:
    """The strict GeoReport v2 server as the city's CRM."""

    kind = "strict"

    def __init__(self, _uri: str, _folder: Path) -> None:
        self.fake = StrictGeoReport(self.clock)
        self.offset = timedelta(0)
        self.switch = Switch(self.fake)
        self.running = serve(self.switch)
        self.endpoint = self.running.url + "/open311/v2/"
        self.key, self.jurisdiction = "strict-key", None

    def clock(self):
        return utcnow().replace(microsecond=0) + self.offset

    def act(self, external_id: str, status: str, note: str, *, seconds_ago: int = 0,
            resolution: str | None = None) -> None:
        wire = "closed" if status == "closed" else "open"
        self.fake.act(external_id, wire, note, at=self.clock() - timedelta(seconds=seconds_ago))

    def backlog(self, count: int, since) -> None:
        """No feed to flood: the strict CRM's city-wide changes are its own requests'."""

    def all(self) -> list[dict]:
        return [
            {"id": r.service_request_id, "description": r.description, "status": r.status,
             "photos": 1 if r.photo else 0, "reopened": False}
            for r in self.fake.requests.values()
        ]

    def stop(self) -> None:
        self.running.stop()


def play(crm_class, kind: str, url: str | None, reports: int) -> Counts:
    folder = Path(tempfile.mkdtemp(prefix=f"fwd-{crm_class.kind}-{kind}-"))
    crm = crm_class(_database(kind, folder, url, "crm"), folder)
    here = _app(
        _database(kind, folder, url, "here"), folder, "here",
        FORWARD_TIMEOUT=3.0, FORWARD_MAX_ATTEMPTS=50,
        FORWARD_NOT_PINPOINTED="centre" if crm.kind == "civic311" else "address",
        FORWARD_CITY_CENTRE=CENTRE,
    )
    ours = serve(here)
    here.config["PUBLIC_URL"] = ours.url
    counts = Counts()
    try:
        with here.app_context():
            department = submission.find_service("graffiti").department
            db.session.add(ForwardTarget(name="City CRM", department=department,
                                         endpoint=crm.endpoint, jurisdiction_id=crm.jurisdiction,
                                         api_key=crm.key, active=True))
            db.session.commit()
            items, devices_of = [], {}
            for n in range(reports):
                _token, device = devices.create()
                photo = [jpeg_bytes(((n * 37) % 255, 90, 160))] if n % 3 == 0 else []
                email = f"resident{n}@example.net" if n % 3 == 1 else None
                if n % 5 == 4:
                    item = submission.submit(submission.Submission(
                        service_code="graffiti", lat=None, long=None, device=device,
                        landmark=f"Under bridge number {n}", description=f"Tag {n}",
                        contact_email=email, channel="pwa")).request
                else:
                    item = factories.gen_request("graffiti", device=device, photos=photo,
                                                 description=f"Tag {n}", contact_email=email)
                db.session.commit()
                items.append(item.id)
                devices_of[item.id] = device
            counts.sent = reports
            counts.photos_here = sum(1 for n in range(reports) if n % 3 == 0 and n % 5 != 4)

            # The CRM is down for three minutes, then three answers are lost.
            crm.switch.down = True
            _rounds(6)
            crm.switch.down = False
            crm.switch.lose = 3
            _rounds(8)
            counts.answers_lost = 3 - crm.switch.lose

            rows = {r.request_id: r for r in db.session.scalars(select(Forwarding))}
            external = [rows[i].external_id for i in items]
            # Half acknowledged then closed within one pull interval, the rest closed.
            backlog_three = external[-3:]
            normal = external[:-3]
            for n, external_id in enumerate(normal):
                if n % 2 == 0:
                    crm.act(external_id, "acknowledged", "Crew assigned.", seconds_ago=90)
                    crm.act(external_id, "closed", f"Painted over ({external_id}).",
                            seconds_ago=60, resolution="fixed")
                else:
                    crm.act(external_id, "closed", f"Removed ({external_id}).",
                            resolution="fixed")
            _rounds(1)

            # The worker stops; 1,050 notes and three closures happen at the CRM.
            target = db.session.scalars(select(ForwardTarget)).one()
            stopped = utcnow() - timedelta(minutes=45)
            target.updates_pulled_until = stopped
            db.session.commit()
            crm.backlog(BACKLOG, stopped + timedelta(minutes=1))
            for external_id in backlog_three:
                crm.act(external_id, "closed", f"Closed during the outage ({external_id}).",
                        seconds_ago=600, resolution="fixed")
            _rounds(1)

            closed_here = {
                r.id: r for r in db.session.scalars(
                    select(ServiceRequest).where(ServiceRequest.id.in_(items)))
            }
            for request_id, external_id in zip(items, external, strict=True):
                item = closed_here[request_id]
                if item.status == "closed" and item.resolution and external_id in (
                    item.resolution_note or ""
                ):
                    counts.closures_back += 1
            counts.closures_wanted = len(items)

            # Ten residents reopen, half of them gave no e-mail; the CRM closes again.
            with_mail = [i for i in items if closed_here[i].contact_email][:5]
            without = [i for i in items if not closed_here[i].contact_email][:5]
            reopened = with_mail + without
            for request_id in reopened:
                after_closure.reopen(closed_here[request_id], f"Still there ({request_id})",
                             device=devices_of[request_id])
                db.session.commit()
            counts.reopenings = len(reopened)
            _rounds(2)
            remote = {r["id"]: r for r in crm.all()}
            for request_id in reopened:
                row = db.session.get(Forwarding, rows[request_id].id)
                there = remote.get(row.external_id)
                if crm.kind == "civic311":
                    if there and there["status"] == "open" and there["reopened"]:
                        counts.reopenings_there += 1
                elif there and f"Still there ({request_id})" in there["description"]:
                    counts.reopenings_there += 1
            crm.offset = getattr(crm, "offset", timedelta(0)) + timedelta(minutes=1)
            for request_id in reopened:
                row = db.session.get(Forwarding, rows[request_id].id)
                crm.act(row.external_id, "closed", f"Fixed again ({row.external_id}).",
                        resolution="fixed")
            _rounds(1)
            for request_id in reopened:
                db.session.expire_all()
                item = db.session.get(ServiceRequest, request_id)
                row = db.session.get(Forwarding, rows[request_id].id)
                counts.closures_wanted += 1
                if item.status == "closed" and f"Fixed again ({row.external_id})" in (
                    item.resolution_note or ""
                ):
                    counts.closures_back += 1

            # Staff write public notes on two requests: a CRM without the updates
            # extension cannot take them, and staff must see that.
            staff_member = factories.gen_user("staff")
            for request_id in items[:2]:
                workflow.add_note(db.session.get(ServiceRequest, request_id), staff_member,
                               "We asked the owner too.", public=True)
            db.session.commit()
            _rounds(1)
            counts.posts = crm.switch.posts

            # What arrived at the CRM, once each (by our reference in the description).
            remote = crm.all()
            for request_id in items:
                public_id = db.session.get(ServiceRequest, request_id).public_id
                marker = crm_payloads.REFERENCE + " " + public_id
                matches = [r for r in remote if r["description"].rstrip().endswith(marker)]
                counts.arrived_once += len(matches) == 1
                counts.duplicates += max(len(matches) - 1, 0)
                if any(r["photos"] for r in matches):
                    counts.photos_there += 1
            unsent = db.session.scalars(
                select(Forwarding).where(Forwarding.state != ForwardState.SENT)).all()
            counts.losses = len(unsent) + (counts.closures_wanted - counts.closures_back)
            # Every failure is on the staff page with its reason.
            failed = db.session.scalars(
                select(ForwardedUpdate).where(ForwardedUpdate.state != ForwardState.SENT)).all()
            counts.staff_failures = len(failed) + len(unsent)
            client = here.test_client()
            staff = factories.gen_user("staff")
            db.session.commit()
            client.post("/auth/sign-in", data={"email": staff.email, "password": factories.PASSWORD})
            for item in failed:
                public_id = item.forwarding.request.public_id
                page = html.unescape(client.get(f"/staff/requests/{public_id}").get_data(as_text=True))
                counts.staff_failures_shown += bool(item.last_error and item.last_error in page)
            for row in unsent:
                page = html.unescape(
                    client.get(f"/staff/requests/{row.request.public_id}").get_data(as_text=True)
                )
                counts.staff_failures_shown += bool(row.last_error and row.last_error in page)
    finally:
        ours.stop()
        crm.stop()
        for app in (here, getattr(crm, "app", None)):
            if app is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if "postgres" in kinds and not args.database_url:
        print("PostgreSQL left out: no --database-url nor TEST_DATABASE_URL")
        kinds.remove("postgres")
    good = True
    for kind in kinds:
        for crm_class in (Civic311Crm, StrictCrm):
            counts = play(crm_class, kind, args.database_url, args.requests)
            good &= counts.good()
            print(f"{crm_class.kind:9} {kind:8} {counts.line()}", flush=True)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
