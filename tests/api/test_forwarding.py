"""Forwarding to the city's own Open311 CRM: a second Civic311 instance plays the CRM
(its own app and database, served on 127.0.0.1), and a local fake CRM is down,
fails, is slow, refuses, or only offers the requests list."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from werkzeug.wrappers import Request, Response

from tests import factories
from tests.conftest import _config_dict
from tests.fakes import serve
from tests.fakes.push_service import FakePushService
from webapp import create_app
from webapp.domain.intake import routing
from webapp.domain.lifecycle import after_closure, assignment, submission, workflow
from webapp.domain.lifecycle import requests as rules
from webapp.domain.notifications import notify
from webapp.domain.open311.forwarding import pulling, queueing, sending
from webapp.domain.people import api_keys, devices
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    Forwarding,
    ForwardState,
    ForwardTarget,
    NotificationOutbox,
    RequestEvent,
    ServiceRequest,
    Status,
    utcnow,
)
from webapp.plumbing.extensions import db

CRM_JURISDICTION = "crm.testville.gov"
_MIGRATED: set[str] = set()


def _crm_database(url: str) -> str:
    """A second PostgreSQL database for the CRM instance, created and migrated once."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_crm"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}
        ).scalar():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    crm_url = url.rsplit("/", 1)[0] + "/" + name
    if crm_url not in _MIGRATED:
        engine = create_engine(crm_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        migrating = create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": crm_url})
        with migrating.app_context():
            upgrade()
            db.engine.dispose()
        _MIGRATED.add(crm_url)
    return crm_url


class SlowAfterPosting:
    """Wraps the CRM: after it has handled a POST, wait ``delay`` seconds (once), so
    the caller times out although the CRM did create the request."""

    def __init__(self, app) -> None:
        self.app = app
        self.delay = 0.0

    def __call__(self, environ, start_response):
        result = self.app(environ, start_response)
        if self.delay and environ["REQUEST_METHOD"] == "POST":
            delay, self.delay = self.delay, 0.0
            time.sleep(delay)
        return result


class Crm:
    """The second Civic311 instance, served: its app, URL, API key and a staff member."""

    def __init__(self, app, running, wrapper, key: str) -> None:
        self.app, self.running, self.wrapper, self.key = app, running, wrapper, key

    @property
    def endpoint(self) -> str:
        return self.running.url + "/open311/v2/"

    def requests(self) -> list[ServiceRequest]:
        with self.app.app_context():
            found = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()
            db.session.expunge_all()
            return found

    def close(self, external_id: str, resolution: str, note: str) -> None:
        with self.app.app_context():
            staff = factories.gen_user("staff")
            item = rules.get_by_public_id(external_id)
            workflow.transition(item, "closed", staff, note=note, resolution=resolution)
            db.session.commit()

    def acknowledge(self, external_id: str, note: str) -> None:
        with self.app.app_context():
            staff = factories.gen_user("staff")
            workflow.transition(rules.get_by_public_id(external_id), "acknowledged", staff, note=note)
            db.session.commit()


@pytest.fixture
def here(make_app):
    """Our app, which forwards (tests about slow CRMs shorten ``FORWARD_TIMEOUT``)."""
    app = make_app(FORWARD_TIMEOUT=10.0, FORWARD_MAX_ATTEMPTS=3)
    with app.app_context():
        yield app


@pytest.fixture
def crm(here, make_app, database_backend):
    """A second Civic311, with its own database, acting as the city's CRM."""
    kind, location = database_backend
    overrides = {"JURISDICTION_ID": CRM_JURISDICTION}
    if kind == "postgres":
        overrides["SQLALCHEMY_DATABASE_URI"] = _crm_database(location)
    app = make_app(**overrides)
    with app.app_context():
        factories.gen_city()
        key, _record = api_keys.issue("Civic311 front door")
        db.session.commit()
    wrapper = SlowAfterPosting(app)
    running = serve(wrapper)
    yield Crm(app, running, wrapper, key)
    running.stop()


def _target(endpoint: str, department, *, key: str = "crm-key", jurisdiction=None) -> ForwardTarget:
    target = ForwardTarget(
        name="City CRM",
        department=department,
        endpoint=endpoint,
        jurisdiction_id=jurisdiction,
        api_key=key,
        active=True,
    )
    db.session.add(target)
    db.session.commit()
    return target


def _followed_request(description="Tag on the bridge pier"):
    """A resident's request whose phone is subscribed to push."""
    _token, device = devices.create()
    item = factories.gen_request("graffiti", device=device, description=description,
                                 contact_email="resident@example.net")
    keys = FakePushService(base_url="http://127.0.0.1:9").subscription()
    notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
    db.session.commit()
    return item


def test_a_request_travels_to_the_crm_once_and_its_closure_comes_back(here, crm):
    city = factories.gen_city()
    target = _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    item = _followed_request()
    row = queueing.for_request(item)
    assert row.state == ForwardState.PENDING and row.target_id == target.id

    assert sending.send_due() == 1
    assert sending.send_due() == 0
    remote = crm.requests()
    assert len(remote) == 1
    assert remote[0].description == f"Tag on the bridge pier\n\nCivic311 ref. {item.public_id}"
    assert remote[0].channel == "open311" and remote[0].contact_email == "resident@example.net"
    db.session.refresh(row)
    assert (row.state, row.external_id) == (ForwardState.SENT, remote[0].public_id)

    crm.acknowledge(row.external_id, "Crew assigned.")
    pulled = pulling.pull_all()
    assert target.last_error is None
    assert pulled == 1
    db.session.refresh(item)
    assert item.detailed_status == Status.ACKNOWLEDGED

    crm.close(row.external_id, "cannot_locate", "We could not find any graffiti there.")
    assert pulling.pull_all() == 1
    db.session.refresh(item)
    assert item.detailed_status == Status.CLOSED
    assert item.resolution == "cannot_locate"
    assert item.resolution_note == "We could not find any graffiti there."
    queued = db.session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.request_id == item.id)
    ).all()
    pushed = [row for row in queued if row.channel == "push"]
    assert len(pushed) == 1
    # The contact address given with the report hears about the closure by e-mail too.
    assert "closed" in {row.kind for row in queued if row.channel == "email"}
    assert "could not find" in str(pushed[0].payload).lower()

    events = db.session.query(RequestEvent).filter_by(request_id=item.id).count()
    assert pulling.pull_all() == 0
    assert db.session.query(RequestEvent).filter_by(request_id=item.id).count() == events
    assert len(crm.requests()) == 1


def test_a_request_the_crm_made_before_timing_out_is_not_made_twice(here, crm):
    city = factories.gen_city()
    _target(crm.endpoint, city["department"], key=crm.key)
    item = _followed_request()
    here.config["FORWARD_TIMEOUT"] = 1.0
    crm.wrapper.delay = 3.0
    assert sending.send_due() == 0
    row = queueing.for_request(item)
    assert row.state == ForwardState.PENDING and "in time" in row.last_error
    assert len(crm.requests()) == 1  # it did arrive

    row.next_attempt_at = utcnow()
    db.session.commit()
    here.config["FORWARD_TIMEOUT"] = 10.0
    sent = sending.send_due()
    db.session.refresh(row)
    assert row.last_error is None
    assert sent == 1
    remote = crm.requests()
    assert len(remote) == 1 and row.external_id == remote[0].public_id


def test_a_landmark_only_request_is_sent_as_not_pinpointed(here, crm):
    """A CRM that knows FixMyStreet's ``#NOTPINPOINTED#`` (a Civic311 does) gets it when
    the city chooses that strategy."""
    here.config["FORWARD_NOT_PINPOINTED"] = "fixmystreet"
    city = factories.gen_city()
    _target(crm.endpoint, city["department"], key=crm.key)
    result = submission.submit(
        submission.Submission(service_code="graffiti", lat=None, long=None,
                         landmark="Under the Market St bridge", description="Big tag")
    )
    assert sending.send_due() == 1
    remote = crm.requests()
    assert remote[0].needs_location and remote[0].lat is None
    assert "Under the Market St bridge" in remote[0].description
    assert queueing.for_request(result.request).state == ForwardState.SENT


class FakeCrm:
    """A local Open311 CRM that can be made to fail: ``mode`` is ``ok``, ``500``,
    ``reject``, ``slow`` or ``requests-only`` (no servicerequestupdates)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.posts: list[dict] = []
        self.updates: list[dict] = []
        self.closed: set[str] = set()

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if request.method == "POST" and path.endswith("/requests.xml"):
            self.posts.append(
                {"key": request.headers.get("Idempotency-Key"), "form": request.form.to_dict()}
            )
            if self.mode == "500":
                response = Response("oops", status=500)
            elif self.mode == "reject":
                response = Response(
                    "<?xml version='1.0'?><errors><error><code>400</code>"
                    "<description>service_code graffiti is not known here</description>"
                    "</error></errors>",
                    status=400,
                    content_type="text/xml",
                )
            else:
                if self.mode == "slow":
                    time.sleep(2)
                response = Response(
                    "<?xml version='1.0'?><service_requests><request>"
                    f"<service_request_id>CRM-{len(self.posts)}</service_request_id>"
                    "</request></service_requests>",
                    content_type="text/xml",
                )
        elif request.method == "POST" and path.endswith("/servicerequestupdates.xml"):
            self.updates.append(request.form.to_dict())
            if self.mode == "500":
                response = Response("oops", status=500)
            else:
                response = Response(
                    "<?xml version='1.0'?><service_request_updates><request_update>"
                    f"<update_id>U-{len(self.updates)}</update_id>"
                    "</request_update></service_request_updates>",
                    content_type="text/xml",
                )
        elif path.endswith("/servicerequestupdates.xml") and self.mode == "requests-only":
            response = Response(
                "<?xml version='1.0'?><errors><error><code>404</code>"
                "<description>Not found</description></error></errors>",
                status=404,
                content_type="text/xml",
            )
        elif path.endswith("/servicerequestupdates.xml"):
            response = Response(
                "<?xml version='1.0'?><service_requests_updates/>", content_type="text/xml"
            )
        elif path.endswith("/requests.xml"):
            ids = request.args.get("service_request_id", "").split(",")
            now = utcnow().isoformat(timespec="seconds")
            items = "".join(
                f"<request><service_request_id>{i}</service_request_id>"
                f"<status>{'closed' if i in self.closed else 'open'}</status>"
                + ("<status_notes>Done by the night crew</status_notes>" if i in self.closed else "")
                +
                f"<updated_datetime>{now}</updated_datetime></request>"
                for i in ids
            )
            response = Response(
                f"<?xml version='1.0'?><service_requests>{items}</service_requests>",
                content_type="text/xml",
            )
        else:
            response = Response("not here", status=404)
        return response(environ, start_response)


@pytest.fixture
def fake_crm():
    """The failing fake on 127.0.0.1: ``(fake, endpoint)``."""
    fake = FakeCrm()
    running = serve(fake)
    yield fake, running.url + "/open311/v2/"
    running.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("mode", ["down", "500", "slow"])
def test_an_unreachable_crm_is_retried_with_growing_waits_and_never_loses_the_request(
    here, fake_crm, mode
):
    fake, endpoint = fake_crm
    here.config["FORWARD_TIMEOUT"] = 0.5
    city = factories.gen_city()
    if mode == "down":
        endpoint = f"http://127.0.0.1:{_closed_port()}/open311/v2/"
    else:
        fake.mode = mode
    _target(endpoint, city["department"])
    item = _followed_request()
    waits = []
    for attempt in range(1, 4):
        row = queueing.for_request(item)
        row.next_attempt_at = utcnow()
        db.session.commit()
        before = utcnow()
        assert sending.send_due() == 0
        db.session.refresh(row)
        assert row.attempts == attempt and row.last_error
        waits.append(row.next_attempt_at - before)
    assert waits[1] > waits[0]
    assert row.state == sending.FAILED
    assert db.session.get(ServiceRequest, item.id).status == "open"
    if mode != "down":
        assert len({post["key"] for post in fake.posts}) == 1  # one key for every try


def test_staff_see_a_rejection_in_the_crms_words_and_can_send_it_again(app, fake_crm, auth, client):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    fake.mode = "reject"
    sending.send_due()
    row = queueing.for_request(item)
    assert row.state == ForwardState.REJECTED and row.attempts == 1
    assert "not known here" in row.last_error
    auth.login("staff")
    page = client.get(f"/staff/requests/{item.public_id}").get_data(as_text=True)
    assert "Rejected by City CRM" in page and "not known here" in page
    assert item.public_id in client.get("/staff/").get_data(as_text=True)

    fake.mode = "ok"
    response = client.post(f"/staff/requests/{item.public_id}/forward/retry")
    assert response.status_code == 302
    assert sending.send_due() == 1
    db.session.refresh(row)
    assert (row.state, row.external_id) == (ForwardState.SENT, "CRM-2")
    notes = db.session.scalars(
        select(RequestEvent.note).where(
            RequestEvent.request_id == item.id, RequestEvent.kind == EventKind.PRIVATE_NOTE
        )
    ).all()
    assert any("refused" in n for n in notes) and any("CRM-2" in n for n in notes)
    again = client.post(f"/staff/requests/{item.public_id}/forward/retry")
    assert again.status_code == 302
    db.session.refresh(row)
    assert row.state == ForwardState.SENT


def test_without_servicerequestupdates_the_requests_list_brings_the_closure(here, fake_crm):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    fake.mode = "requests-only"
    assert sending.send_due() == 1
    assert pulling.pull_all() == 0
    fake.closed.add("CRM-1")
    assert pulling.pull_all() == 1
    db.session.refresh(item)
    assert item.status == "closed" and item.resolution_note == "Done by the night crew"
    assert pulling.pull_all() == 0


def test_requests_of_other_departments_stay_here(here, fake_crm):
    fake, endpoint = fake_crm
    factories.gen_city()
    other = factories.gen_department("Parks")
    _target(endpoint, other)
    item = factories.gen_request("graffiti")
    assert queueing.for_request(item) is None
    assert sending.send_due() == 0 and fake.posts == []


def test_a_service_target_wins_over_its_department(here, fake_crm):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    _target("http://127.0.0.1:9/open311/v2/", city["department"])
    special = ForwardTarget(name="Graffiti desk", service=city["graffiti"], endpoint=endpoint, active=True)
    db.session.add(special)
    db.session.commit()
    item = factories.gen_request("graffiti")
    assert queueing.for_request(item).target_id == special.id


def test_the_forward_worker_command_runs_one_round(here, fake_crm):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    _target(endpoint, city["department"])
    _followed_request()
    result = here.test_cli_runner().invoke(args=["forward-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(fake.posts) == 1


def test_an_admin_sets_a_departments_crm(app, city, auth, client):
    auth.login("admin")
    page = client.get("/admin/forwarding")
    assert page.status_code == 200
    response = client.post(
        "/admin/forwarding",
        data={
            "name": "Lagan",
            "department_id": str(city["department"].id),
            "service_id": "",
            "endpoint": "https://crm.city.example/open311/v2",
            "jurisdiction_id": "city.example",
            "api_key": "secret-key",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    target = db.session.scalars(select(ForwardTarget)).one()
    assert (target.endpoint, target.api_key) == ("https://crm.city.example/open311/v2/", "secret-key")
    assert "secret-key" not in client.get("/admin/forwarding").get_data(as_text=True)
    bad = client.post(
        "/admin/forwarding",
        data={"name": "Both", "department_id": "", "service_id": "", "endpoint": "ftp://x"},
    )
    assert bad.status_code == 200 and db.session.query(ForwardTarget).count() == 1


def test_backoff_grows_and_is_capped():
    waits = [sending.backoff(n) for n in range(1, 12)]
    assert waits[0] == timedelta(seconds=30) and waits == sorted(waits)
    assert waits[-1] == timedelta(hours=1)


def test_a_request_moved_to_a_department_with_a_crm_is_queued_then(here, fake_crm):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    parks = factories.gen_department("Parks")
    _target(endpoint, parks)
    item = factories.gen_request("graffiti")
    assert queueing.for_request(item) is None
    staff = factories.gen_user("staff")
    assignment.assign(item, staff, department_id=parks.id)
    db.session.commit()
    assert sending.send_due() == 1
    assert queueing.for_request(item).external_id == "CRM-1"
    assignment.assign(item, staff, department_id=city["department"].id)
    assignment.assign(item, staff, department_id=parks.id)
    db.session.commit()
    assert db.session.query(Forwarding).count() == 1


def test_a_residents_reopening_here_reaches_the_crm_once_and_is_not_echoed_back(here, crm):
    city = factories.gen_city()
    _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    item = _followed_request()
    assert sending.send_due() == 1
    row = queueing.for_request(item)
    crm.close(row.external_id, "fixed", "Painted over.")
    assert pulling.pull_all() == 1
    db.session.refresh(item)
    assert item.status == "closed"

    after_closure.reopen(item, "The tag is back\r\nbigger than before", device=item.device)
    db.session.commit()
    assert sending.send_due_updates() == 1
    assert sending.send_due_updates() == 0
    remote = crm.requests()[0]
    assert remote.status == "open" and remote.reopened
    with crm.app.app_context():
        notes = [
            e.note
            for e in db.session.scalars(select(RequestEvent).order_by(RequestEvent.id))
            if e.kind == EventKind.REOPENED
        ]
    assert notes == ["The tag is back\nbigger than before"]
    events = db.session.query(RequestEvent).filter_by(request_id=item.id).count()
    assert pulling.pull_all() == 0
    assert db.session.query(RequestEvent).filter_by(request_id=item.id).count() == events


def test_a_residents_note_waits_until_the_request_reached_the_crm(here, fake_crm):
    fake, endpoint = fake_crm
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    staff = factories.gen_user("staff")
    workflow.add_note(item, staff, "We asked the owner too.", public=True)
    workflow.add_note(item, staff, "Private: owner is difficult", public=False)
    db.session.commit()
    assert sending.send_due_updates() == 0
    assert fake.updates == []
    assert sending.send_due() == 1
    fake.mode = "500"
    assert sending.send_due_updates() == 0
    waiting = db.session.scalars(select(ForwardedUpdate)).one()
    assert waiting.state == ForwardState.PENDING and waiting.attempts == 1
    fake.mode = "ok"
    waiting.next_attempt_at = utcnow()
    db.session.commit()
    assert sending.send_due_updates() == 1
    db.session.refresh(waiting)
    assert (waiting.state, waiting.external_id) == (ForwardState.SENT, "U-2")
    sent = fake.updates[-1]
    assert (sent["service_request_id"], sent["status"]) == ("CRM-1", "OPEN")
    assert sent["description"] == "We asked the owner too."
    assert sent["update_id"] == str(waiting.event_id) and sent["api_key"] == "crm-key"
    assert all("owner is difficult" not in str(u) for u in fake.updates)


def _square(south, west, north, east) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def test_forwarding_follows_the_department_routing_chose_on_create(here, fake_crm):
    """Routing rules decide the department first; the request is queued for that one's CRM."""
    _fake, endpoint = fake_crm
    factories.gen_city()
    parks = factories.gen_department("Parks")
    target = _target(endpoint, parks)
    graffiti = submission.find_service("graffiti")
    routing.save_rule(department_id=parks.id, service_id=graffiti.id)
    db.session.commit()
    item = factories.gen_request("graffiti")
    assert item.department_id == parks.id
    assert queueing.for_request(item).target_id == target.id


def test_a_recategorised_request_is_queued_for_its_new_crm_once(here, fake_crm):
    _fake, endpoint = fake_crm
    factories.gen_city()
    parks = factories.gen_department("Parks")
    _target(endpoint, parks)
    trees = factories.gen_service("fallen_tree", name="Fallen tree", department=parks)
    db.session.commit()
    item = factories.gen_request("graffiti")
    assert queueing.for_request(item) is None
    staff = factories.gen_user("staff")
    routing.recategorise(item, trees, staff)
    db.session.commit()
    assert item.department_id == parks.id
    assert queueing.for_request(item) is not None
    routing.recategorise(item, submission.find_service("graffiti"), staff)
    routing.recategorise(item, trees, staff)
    db.session.commit()
    assert db.session.query(Forwarding).count() == 1


def test_a_request_without_coordinates_is_routed_by_rules_for_any_place(here, fake_crm):
    """No position yet: a drawn-area rule cannot match it (nor fail on it); an any-place
    rule for its service still does, and forwarding follows that department."""
    _fake, endpoint = fake_crm
    factories.gen_city()
    parks = factories.gen_department("Parks")
    streets = factories.gen_department("Streets")
    _target(endpoint, streets)
    graffiti = submission.find_service("graffiti")
    routing.save_rule(
        department_id=parks.id, service_id=graffiti.id, area_geojson=_square(35.0, -85.4, 35.1, -85.2)
    )
    routing.save_rule(department_id=streets.id, service_id=graffiti.id)
    db.session.commit()
    item = submission.submit(
        submission.Submission(
            service_code="graffiti",
            lat=None,
            long=None,
            description="Tag on the underpass",
            landmark="The underpass by the library",
            channel="pwa",
        )
    ).request
    assert item.needs_location and item.lat is None
    assert item.department_id == streets.id
    assert queueing.for_request(item) is not None
