"""The status workflow rules in webapp.domain.lifecycle, tested without a request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.staff.conftest import jpeg_bytes
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle import after_closure as requests_domain
from webapp.domain.lifecycle import assignment, following, merging, workflow
from webapp.domain.people import devices
from webapp.models import EventKind, Follow, PhotoKind, RequestEvent, Status
from webapp.plumbing.extensions import db


@pytest.fixture(autouse=True)
def request_context(app):
    """Messages are translated for a caller, so rules run inside a request context."""
    with app.test_request_context():
        yield


@pytest.fixture
def staff(city):
    user = factories.gen_user("staff")
    db.session.commit()
    return user


def events(req, kind):
    return db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == req.id, RequestEvent.kind == kind)
    ).all()


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("closed", "acknowledged"),
        ("closed", "in_progress"),
        ("closed", "submitted"),
        ("acknowledged", "submitted"),
        ("in_progress", "submitted"),
        ("submitted", "nonsense"),
    ],
)
def test_illegal_transitions_are_refused_and_write_nothing(staff, start, target):
    req = factories.gen_request()
    if start == "closed":
        workflow.transition(req, "closed", staff, note="Done", resolution="fixed")
    elif start != "submitted":
        workflow.transition(req, start, staff)
    db.session.commit()
    before = len(req.events)
    with pytest.raises(DomainError):
        workflow.transition(req, target, staff)
    db.session.rollback()
    assert req.detailed_status == start
    assert len(req.events) == before


def test_each_legal_transition_writes_an_event(staff):
    req = factories.gen_request()
    workflow.transition(req, "acknowledged", staff)
    workflow.transition(req, "in_progress", staff, note="Crew on the way")
    workflow.transition(req, "closed", staff, note="Painted over", resolution="fixed")
    db.session.commit()
    kinds = [(e.kind, e.to_status) for e in req.events]
    assert kinds[1:] == [
        (EventKind.ACKNOWLEDGED, Status.ACKNOWLEDGED),
        (EventKind.STATUS_CHANGED, Status.IN_PROGRESS),
        (EventKind.STATUS_CHANGED, Status.CLOSED),
    ]
    assert req.status == "closed" and req.resolution == "fixed" and req.closed_at


@pytest.mark.parametrize("note", [None, "", "   "])
def test_closing_without_a_public_note_is_refused(staff, note):
    req = factories.gen_request()
    with pytest.raises(DomainError) as refused:
        workflow.transition(req, "closed", staff, note=note, resolution="fixed")
    assert refused.value.field == "note"
    db.session.rollback()
    assert req.detailed_status == Status.SUBMITTED


def test_closing_needs_a_known_resolution(staff):
    req = factories.gen_request()
    with pytest.raises(DomainError) as refused:
        workflow.transition(req, "closed", staff, note="Done", resolution="vanished")
    assert refused.value.field == "resolution"


def test_merge_moves_followers_and_supporters_and_closes_the_duplicate(city, staff):
    resident_a = factories.gen_user("resident")
    resident_b = factories.gen_user("resident")
    _token, phone = devices.create()
    db.session.commit()
    survivor = factories.gen_request(requester=resident_a)
    duplicate = factories.gen_request(requester=resident_b)
    following.follow(duplicate, device=phone)
    db.session.commit()
    assert duplicate.supporters_count == 1
    merging.merge(duplicate, survivor, staff)
    db.session.commit()
    followers = db.session.scalars(select(Follow).where(Follow.request_id == survivor.id)).all()
    assert {f.user_id for f in followers if f.user_id} == {resident_a.id, resident_b.id}
    assert phone.id in {f.device_id for f in followers}
    assert survivor.supporters_count == 2
    assert duplicate.is_closed and duplicate.resolution == "duplicate"
    assert duplicate.duplicate_of_id == survivor.id
    assert events(survivor, EventKind.MERGED)[0].data["merged"] == duplicate.public_id


def test_merge_into_itself_or_a_closed_request_is_refused(staff):
    first = factories.gen_request()
    second = factories.gen_request()
    workflow.transition(second, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    with pytest.raises(DomainError):
        merging.merge(first, first, staff)
    with pytest.raises(NotAllowed):
        merging.merge(first, second, staff)


def _closed_by(staff, requester=None, device=None, days_ago=0):
    req = factories.gen_request(requester=requester, device=device)
    workflow.transition(req, "closed", staff, note="Fixed it", resolution="fixed")
    req.closed_at = req.closed_at - timedelta(days=days_ago)
    db.session.commit()
    return req


def test_requester_reopens_within_the_window_and_it_is_flagged(staff):
    resident = factories.gen_user("resident")
    req = _closed_by(staff, requester=resident, days_ago=29)
    requests_domain.reopen(req, "Still a hole", user=resident, photos=[jpeg_bytes()])
    db.session.commit()
    assert req.reopened and req.reopen_count == 1
    assert req.detailed_status == Status.ACKNOWLEDGED and req.status == "open"
    assert req.resolution is None and req.closed_at is None
    assert [p.kind for p in req.photos] == [PhotoKind.REOPEN]


def test_reopen_after_the_window_is_refused(staff):
    resident = factories.gen_user("resident")
    req = _closed_by(staff, requester=resident, days_ago=31)
    with pytest.raises(NotAllowed):
        requests_domain.reopen(req, "Still a hole", user=resident, window_days=30)
    db.session.rollback()
    assert req.is_closed and not req.reopened


def test_reopen_by_someone_else_is_refused(staff):
    resident = factories.gen_user("resident")
    stranger = factories.gen_user("resident")
    _token, phone = devices.create()
    req = _closed_by(staff, requester=resident)
    with pytest.raises(NotAllowed) as refused:
        requests_domain.reopen(req, "Not fixed", user=stranger, device=phone)
    assert refused.value.status == 403
    with pytest.raises(NotAllowed):
        requests_domain.reopen(req, "Not fixed", user=staff)


def test_reopen_needs_a_comment(staff):
    resident = factories.gen_user("resident")
    req = _closed_by(staff, requester=resident)
    with pytest.raises(DomainError) as refused:
        requests_domain.reopen(req, "  ", user=resident)
    assert refused.value.field == "comment"


def test_anonymous_device_can_confirm_and_rate_once(staff):
    _token, phone = devices.create()
    req = _closed_by(staff, device=phone)
    requests_domain.confirm_fixed(req, device=phone)
    requests_domain.answer_survey(req, 4, "Quick work", device=phone)
    db.session.commit()
    assert requests_domain.confirmed_fixed(req)
    assert requests_domain.survey_rating(req) == 4
    with pytest.raises(NotAllowed):
        requests_domain.confirm_fixed(req, device=phone)
    with pytest.raises(NotAllowed):
        requests_domain.answer_survey(req, 5, None, device=phone)
    survey = events(req, EventKind.SURVEY_ANSWERED)[0]
    assert survey.public is False


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_outside_one_to_five_are_refused(staff, rating):
    resident = factories.gen_user("resident")
    req = _closed_by(staff, requester=resident)
    with pytest.raises(DomainError):
        requests_domain.answer_survey(req, rating, None, user=resident)


def test_private_notes_and_assignments_are_not_public_events(staff):
    req = factories.gen_request()
    workflow.add_note(req, staff, "Internal", public=False)
    assignment.assign(req, staff, assignee=staff)
    db.session.commit()
    private = [e for e in req.events if not e.public]
    assert {e.kind for e in private} == {EventKind.PRIVATE_NOTE, EventKind.ASSIGNED}


def test_response_templates_match_service_and_status(city):
    from webapp.models import ResponseTemplate

    db.session.add_all(
        [
            ResponseTemplate(title="Generic", body="Thanks", status=None),
            ResponseTemplate(title="Pothole fixed", body="Filled", status="closed",
                             service_id=city["pothole"].id),
            ResponseTemplate(title="Graffiti fixed", body="Painted", status="closed",
                             service_id=city["graffiti"].id),
        ]
    )
    db.session.commit()
    titles = [t.title for t in workflow.response_templates(city["pothole"].id, "closed")]
    assert titles == ["Generic", "Pothole fixed"]
