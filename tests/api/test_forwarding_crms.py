"""Forwarding against two kinds of CRM: a second Civic311 (mySociety's updates
extension, Idempotency-Key, extensions) and a strict GeoReport v2 server
(``tests/fakes/georeport.py``: requests and services only, closures found by asking
``requests`` for the forwarded ids in batches). Time at the CRM is moved by hand
(backdated rows, an injected clock); nothing here sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, text

from tests import factories
from tests.api import test_forwarding as shared
from tests.api.test_forwarding import CRM_JURISDICTION, FakeCrm, _followed_request, _target
from tests.api.test_open311 import jpeg_bytes
from tests.fakes import serve
from tests.fakes.georeport import StrictGeoReport
from webapp.domain.lifecycle import after_closure, submission, workflow
from webapp.domain.lifecycle import requests as rules
from webapp.domain.open311 import photo_links
from webapp.domain.open311.forwarding import pulling, queueing, sending
from webapp.domain.people import devices
from webapp.models import (
    EventKind,
    ForwardedUpdate,
    ForwardState,
    NotificationOutbox,
    RequestEvent,
    ServiceRequest,
    Status,
    utcnow,
)
from webapp.plumbing.extensions import db

here = shared.here
crm = shared.crm


class Clock:
    """The strict CRM's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def served(here):
    """Our own app on 127.0.0.1 too, so a CRM can fetch its photo links."""
    running = serve(here)
    here.config["PUBLIC_URL"] = running.url
    yield running
    running.stop()


@pytest.fixture
def strict():
    """The strict GeoReport v2 CRM: ``(fake, endpoint, clock)``."""
    clock = Clock()
    fake = StrictGeoReport(clock)
    running = serve(fake)
    yield fake, running.url + "/open311/v2/", clock
    running.stop()


def _crm_sql(crm, sql: str, **values) -> None:
    with crm.app.app_context():
        db.session.execute(text(sql), values)
        db.session.commit()


# --- a closure right after another change (the CRM's clock, not ours) -------------


def test_a_fast_acknowledge_then_close_at_a_civic311_crm_closes_here(here, crm):
    city = factories.gen_city()
    target = _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    item = _followed_request()
    assert sending.send_due() == 1
    row = queueing.for_request(item)
    crm.acknowledge(row.external_id, "Crew assigned.")
    crm.close(row.external_id, "fixed", "Painted over the same afternoon.")
    # Both happened at the CRM well before this pull (by its own clock).
    _crm_sql(crm, "UPDATE request_events SET created_at = :t", t=(utcnow() - timedelta(minutes=3)).replace(tzinfo=None))
    _crm_sql(
        crm,
        "UPDATE request_events SET created_at = :t WHERE kind = 'status_changed' AND to_status = 'closed'",
        t=(utcnow() - timedelta(minutes=2)).replace(tzinfo=None),
    )
    assert pulling.pull(target) == 2
    db.session.refresh(item)
    assert item.detailed_status == Status.CLOSED
    assert item.resolution_note == "Painted over the same afternoon."
    db.session.refresh(row)
    assert row.remote_updated_at is not None


def test_an_update_older_than_the_crms_last_one_adds_words_but_does_not_move(here, strict):
    fake, endpoint, clock = strict
    city = factories.gen_city()
    target = _target(endpoint, city["department"])
    item = _followed_request()
    assert sending.send_due() == 1
    row = queueing.for_request(item)
    fake.act(row.external_id, "closed", "Painted over.")
    assert pulling.pull(target) == 1
    db.session.refresh(item)
    assert item.status == "closed"
    after_closure.reopen(item, "Still there", device=item.device)
    db.session.commit()
    # A late echo of the closure, stamped before the last update we applied.
    fake.act(row.external_id, "closed", "Late copy of the closure.", at=clock.now - timedelta(hours=1))
    assert pulling.pull(target) == 1  # the words, as a note
    db.session.refresh(item)
    assert item.status == "open"


# --- the updates feed, page after page ----------------------------------------------


def test_a_backlog_past_one_answer_of_the_feed_still_brings_every_closure(here, crm):
    city = factories.gen_city()
    target = _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    items = [_followed_request(f"Tag number {n}") for n in range(3)]
    assert sending.send_due() == 3
    assert pulling.pull(target) == 0
    ids = [queueing.for_request(i).external_id for i in items]
    # The worker was stopped 45 minutes; meanwhile the CRM took 1,050 public notes on
    # other requests and closed our three.
    outage = utcnow() - timedelta(minutes=45)
    target.updates_pulled_until = outage
    db.session.commit()
    with crm.app.app_context():
        other = factories.gen_request("graffiti", description="City-wide chatter")
        db.session.add_all(
            RequestEvent(
                request_id=other.id, kind=EventKind.PUBLIC_NOTE, public=True,
                note=f"Note {n}", data={}, created_at=outage + timedelta(minutes=1, seconds=n),
            )
            for n in range(1050)
        )
        db.session.commit()
    for external_id in ids:
        crm.close(external_id, "fixed", f"Closed {external_id}.")
    _crm_sql(
        crm,
        "UPDATE request_events SET created_at = :t WHERE kind = 'status_changed'",
        t=(utcnow() - timedelta(minutes=10)).replace(tzinfo=None),
    )
    assert pulling.pull(target) == 3
    for item in items:
        db.session.refresh(item)
        assert item.status == "closed"
    assert target.last_error is None and target.updates_pulled_until > utcnow() - timedelta(minutes=1)


class CappedFeed(FakeCrm):
    """A CRM whose feed answers at most three updates, oldest first, ignores ``page``,
    and fails from the ``fail_from``-th question on."""

    def __init__(self, stamps) -> None:
        super().__init__()
        self.stamps, self.asked, self.fail_from = stamps, 0, 99

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.method == "GET" and request.path.endswith("/servicerequestupdates.xml"):
            self.asked += 1
            if self.asked >= self.fail_from:
                return Response("down", status=503)(environ, start_response)
            start = request.args["start_date"]
            chosen = [s for s in self.stamps if s.isoformat(timespec="seconds") >= start][:3]
            body = "".join(
                f"<request_update><update_id>u{n}</update_id>"
                f"<service_request_id>elsewhere</service_request_id><status>open</status>"
                f"<updated_datetime>{s.isoformat(timespec='seconds')}</updated_datetime>"
                f"<description>n</description></request_update>"
                for n, s in enumerate(self.stamps) if s in chosen
            )
            return Response(
                f"<?xml version='1.0'?><service_requests_updates>{body}</service_requests_updates>",
                content_type="text/xml",
            )(environ, start_response)
        return super().__call__(environ, start_response)


def test_the_pull_window_never_moves_past_what_was_read(here):
    city = factories.gen_city()
    base = utcnow().replace(microsecond=0) - timedelta(hours=1)
    fake = CappedFeed([base + timedelta(minutes=n) for n in range(10)])
    running = serve(fake)
    try:
        target = _target(running.url + "/open311/v2/", city["department"])
        target.updates_pulled_until = base
        db.session.commit()
        fake.fail_from = 3
        pulling.pull(target)
        assert target.last_error
        # Two answers were read (up to minute 4): the window stops there, not at now.
        assert target.updates_pulled_until == base + timedelta(minutes=4)
        fake.fail_from = 99
        fake.asked = 0
        pulling.pull(target)
        assert target.last_error is None
        assert fake.asked >= 4 and target.updates_pulled_until > base + timedelta(minutes=59)
    finally:
        running.stop()


# --- photos as signed, expiring links ------------------------------------------------


def test_photos_reach_both_crms_through_signed_links(here, served, crm, strict):
    fake, endpoint, _clock = strict
    city = factories.gen_city()
    crm.app.config["MEDIA_FETCH_ALLOW_HOSTS"] = "127.0.0.1"
    _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    pothole_dept = factories.gen_department("Roads")
    pothole = submission.find_service("pothole")
    pothole.department_id = pothole_dept.id
    db.session.commit()
    _target(endpoint, pothole_dept)
    factories.gen_request("graffiti", photos=[jpeg_bytes()])
    factories.gen_request("pothole", photos=[jpeg_bytes((10, 200, 10))])
    assert sending.send_due() == 2
    assert fake.photos() == 1
    url = next(iter(fake.requests.values())).media_url
    assert url.startswith(served.url + "/open311/v2/media/") and url.endswith(".jpg")
    with crm.app.app_context():
        remote = db.session.scalars(select(ServiceRequest)).one()
        assert len(remote.photos) == 1


def test_a_photo_link_that_is_altered_or_too_old_opens_nothing(app, client):
    factories.gen_city()
    item = factories.gen_request("graffiti", photos=[jpeg_bytes()])
    photo = item.photos[0]
    good = photo_links.link(photo).rsplit("/", 1)[1]
    assert client.get(f"/open311/v2/media/{good}").status_code == 200
    assert client.get(f"/open311/v2/media/{good[:-6]}x.jpg").status_code == 404

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(utcnow().timestamp()) - 31 * 86400

    from itsdangerous import URLSafeTimedSerializer

    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="civic311-crm-photo", signer=Old
    ).dumps({"p": photo.id})
    assert client.get(f"/open311/v2/media/{old}.jpg").status_code == 404


# --- no duplicates when an answer is lost ----------------------------------------------


def test_a_lost_answer_at_a_strict_crm_is_looked_up_not_sent_twice(here, strict):
    fake, endpoint, _clock = strict
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    fake.lose = 1
    assert sending.send_due() == 0
    row = queueing.for_request(item)
    assert row.lookup_needed and fake.posts == 1
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert sending.send_due() == 1
    db.session.refresh(row)
    assert fake.posts == 1 and len(fake.requests) == 1
    assert row.external_id == "SR-1001" and not row.lookup_needed


def test_a_lookup_that_cannot_be_made_sends_nothing(here, strict):
    fake, endpoint, _clock = strict
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    fake.lose = 1
    sending.send_due()
    fake.down = True
    row = queueing.for_request(item)
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert sending.send_due() == 0
    assert fake.posts == 1
    fake.down = False
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert sending.send_due() == 1 and fake.posts == 1


def test_a_crm_that_answers_with_tokens_is_asked_for_the_id(here):
    clock = Clock()
    fake = StrictGeoReport(clock, tokens=True)
    running = serve(fake)
    try:
        city = factories.gen_city()
        _target(running.url + "/open311/v2/", city["department"])
        item = _followed_request()
        assert sending.send_due() == 1
        row = queueing.for_request(item)
        assert (row.token, row.external_id) == ("tok-0001", "SR-1001")
        assert "GET /open311/v2/tokens/tok-0001.xml" in fake.calls
    finally:
        running.stop()


# --- reopenings and residents' notes -------------------------------------------------------


def test_a_reopening_without_an_email_reopens_the_civic311_crms_request(here, crm):
    city = factories.gen_city()
    target = _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    _token, device = devices.create()
    item = factories.gen_request("graffiti", device=device, description="No e-mail given")
    assert sending.send_due() == 1
    row = queueing.for_request(item)
    crm.close(row.external_id, "fixed", "Painted over.")
    assert pulling.pull(target) == 1
    db.session.refresh(item)
    after_closure.reopen(item, "Still there", device=device)
    db.session.commit()
    assert sending.send_due_updates() == 1
    remote = crm.requests()[0]
    assert remote.status == "open" and remote.reopened
    sent = db.session.scalars(select(ForwardedUpdate)).one()
    assert sent.state == ForwardState.SENT


def test_a_reopening_the_crm_does_not_carry_out_is_shown_to_staff(app, auth, client):
    fake = FakeCrm()  # takes updates as notes, its request stays closed
    running = serve(fake)
    try:
        city = factories.gen_city()
        _target(running.url + "/open311/v2/", city["department"])
        item = _followed_request()
        assert sending.send_due() == 1
        staff = factories.gen_user("staff")
        workflow.transition(item, "closed", staff, note="Done", resolution="fixed")
        db.session.commit()
        after_closure.reopen(item, "Not done at all", device=item.device)
        db.session.commit()
        fake.closed.add("CRM-1")
        assert sending.send_due_updates() == 0
        sent = db.session.scalars(
            select(ForwardedUpdate).join(RequestEvent).where(RequestEvent.kind == EventKind.REOPENED)
        ).one()
        assert sent.state == ForwardState.REJECTED and "kept the request closed" in sent.last_error
        auth.login("staff")
        page = client.get(f"/staff/requests/{item.public_id}").get_data(as_text=True)
        assert "Not accepted by City CRM" in page and "kept the request closed" in page
    finally:
        running.stop()


def test_a_strict_crm_gets_a_reopening_as_a_new_request_and_its_closure_comes_back(here, strict):
    fake, endpoint, clock = strict
    city = factories.gen_city()
    target = _target(endpoint, city["department"])
    item = _followed_request()
    assert sending.send_due() == 1
    row = queueing.for_request(item)
    first = row.external_id
    clock.advance(minutes=5)
    fake.act(first, "closed", "Painted over.")
    assert pulling.pull(target) == 1
    db.session.refresh(item)
    after_closure.reopen(item, "The tag is back", device=item.device)
    db.session.commit()
    assert sending.send_due_updates() == 1
    db.session.refresh(row)
    assert row.external_id != first and len(fake.requests) == 2
    again = fake.requests[row.external_id]
    assert first in again.description and "The tag is back" in again.description
    clock.advance(minutes=5)
    fake.act(row.external_id, "closed", "Painted again, with anti-graffiti coat.")
    assert pulling.pull(target) == 1
    db.session.refresh(item)
    assert item.status == "closed" and "anti-graffiti" in item.resolution_note


def test_a_note_a_strict_crm_cannot_take_is_shown_to_staff_as_not_accepted(app, strict, auth, client):
    fake, endpoint, _clock = strict
    city = factories.gen_city()
    _target(endpoint, city["department"])
    item = _followed_request()
    assert sending.send_due() == 1
    staff = factories.gen_user("staff")
    workflow.add_note(item, staff, "We asked the owner too.", public=True)
    db.session.commit()
    assert sending.send_due_updates() == 0
    auth.login("staff")
    page = client.get(f"/staff/requests/{item.public_id}").get_data(as_text=True)
    assert "Not accepted by City CRM" in page and "HTTP 404" in page


# --- a strict CRM: status and notes over time, found by asking for the ids ----------------


def test_a_strict_crm_brings_notes_then_the_closure_with_its_words(here, strict):
    fake, endpoint, clock = strict
    city = factories.gen_city()
    target = _target(endpoint, city["department"])
    items = [_followed_request(f"Tag {n}") for n in range(60)]
    while sending.send_due():
        pass
    ids = [queueing.for_request(i).external_id for i in items]
    assert len(set(ids)) == 60 and fake.posts == 60
    clock.advance(minutes=1)
    fake.act(ids[0], "open", "Crew assigned.")
    clock.advance(seconds=30)
    fake.act(ids[0], "closed", "Painted over.")
    fake.act(ids[59], "closed", "Removed.")
    assert pulling.pull(target) == 2
    assert sum(1 for call in fake.calls if call == "GET /open311/v2/requests.xml") == 2
    db.session.refresh(items[0])
    assert items[0].status == "closed" and items[0].resolution_note == "Painted over."
    assert pulling.pull(target) == 0


# --- the city's settings ------------------------------------------------------------------


def test_when_the_crm_mails_residents_we_do_not_mail_them_twice(here, strict):
    fake, endpoint, _clock = strict
    here.config["FORWARD_CRM_NOTIFIES_RESIDENTS"] = True
    city = factories.gen_city()
    target = _target(endpoint, city["department"])
    item = _followed_request()
    assert sending.send_due() == 1
    fake.act(queueing.for_request(item).external_id, "closed", "Painted over.")
    assert pulling.pull(target) == 1
    queued = db.session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.request_id == item.id)
    ).all()
    assert any(row.channel == "push" for row in queued)
    assert not [row for row in queued if row.channel == "email" and row.kind == "closed"]


def test_where_the_crm_referred_a_request_is_shown_not_the_crms_name(here, crm):
    city = factories.gen_city()
    target = _target(crm.endpoint, city["department"], key=crm.key, jurisdiction=CRM_JURISDICTION)
    item = _followed_request()
    assert sending.send_due() == 1
    external_id = queueing.for_request(item).external_id
    with crm.app.app_context():
        staff = factories.gen_user("staff")
        workflow.transition(
            rules.get_by_public_id(external_id), "closed", staff,
            note="The railway owns that bridge.", resolution="referred", referred_to="TVA Rail",
        )
        db.session.commit()
    assert pulling.pull(target) == 1
    db.session.refresh(item)
    assert item.resolution == "referred" and item.referred_to == "TVA Rail"


@pytest.mark.parametrize("strategy", ["address", "centre"])
def test_a_request_without_coordinates_goes_as_a_strict_crm_accepts_it(here, strict, strategy):
    fake, endpoint, _clock = strict
    here.config["FORWARD_NOT_PINPOINTED"] = strategy
    here.config["FORWARD_CITY_CENTRE"] = "35.0456,-85.3097"
    city = factories.gen_city()
    _target(endpoint, city["department"])
    submission.submit(
        submission.Submission(service_code="graffiti", lat=None, long=None,
                         landmark="Under the Market St bridge", description="Big tag")
    )
    assert sending.send_due() == 1
    remote = next(iter(fake.requests.values()))
    if strategy == "address":
        assert remote.address == "Under the Market St bridge" and remote.lat is None
    else:
        assert (remote.lat, remote.long) == ("35.045600", "-85.309700")
        assert remote.description.startswith("Not pinpointed: the point is the city centre")
        assert "Under the Market St bridge" in remote.description


def test_an_update_from_the_crm_keeps_its_photo_link_and_its_own_time(app):
    """Applied by the CRM's clock (``remote_since``), its ``media_url`` kept as a reference."""
    from webapp.domain.open311 import updates

    factories.gen_city()
    item = factories.gen_request("graffiti")
    seen = utcnow() - timedelta(minutes=10)
    closing = updates.RemoteUpdate(
        update_id="u1", service_request_id="X-1", status="closed",
        updated_datetime=(seen - timedelta(minutes=1)).isoformat(), description="Old words",
        media_url="https://crm.example.gov/photos/1.jpg",
    )
    event = updates.apply_remote_update(item, closing, source_key="fwd1", remote_since=seen)
    assert event.kind == EventKind.PUBLIC_NOTE and item.status == "open"
    assert event.data["media_url"] == "https://crm.example.gov/photos/1.jpg"
    later = updates.RemoteUpdate(
        update_id="u2", service_request_id="X-1", status="closed",
        updated_datetime=(seen + timedelta(seconds=1)).isoformat(), description="Done",
    )
    assert updates.apply_remote_update(item, later, source_key="fwd1", remote_since=seen)
    assert item.status == "closed"
