"""FixMyStreet's acceptance rules for updates pulled from a city's Open311 server
(Open311::GetServiceRequestUpdates and UpdatesBase), applied to our own pulls."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests import factories
from webapp.domain.lifecycle import workflow as rules
from webapp.domain.open311 import updates
from webapp.models import EventKind, RequestEvent, Status, utcnow
from webapp.plumbing.extensions import db


def _update(**fields) -> updates.RemoteUpdate:
    values = {
        "update_id": "u-1",
        "service_request_id": "CRM-1",
        "status": "IN_PROGRESS",
        "updated_datetime": utcnow().isoformat(timespec="seconds"),
        "description": "Crew on site",
    }
    values.update(fields)
    return updates.RemoteUpdate(**values)


def _events(item) -> list[RequestEvent]:
    return db.session.query(RequestEvent).filter_by(request_id=item.id).order_by(RequestEvent.id).all()


@pytest.fixture
def item(app, city):
    """A request received a minute ago."""
    made = factories.gen_request("graffiti")
    made.events[0].created_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return made


@pytest.mark.parametrize(
    "fields",
    [
        {"update_id": None},
        {"update_id": ""},
        {"service_request_id": None},
        {"updated_datetime": None},
        {"updated_datetime": "yesterday at noon"},
        {"updated_datetime": "2025-05-01T10:00:00"},  # no timezone
    ],
)
def test_an_update_missing_what_identifies_it_is_skipped(item, fields):
    before = len(_events(item))
    assert updates.apply_remote_update(item, _update(**fields), source_key="t") is None
    assert len(_events(item)) == before and item.detailed_status == Status.SUBMITTED


def test_an_update_outside_the_asked_window_is_skipped(item):
    now = utcnow()
    window = (now - timedelta(hours=2), now - timedelta(hours=1))
    assert updates.apply_remote_update(item, _update(), source_key="t", window=window) is None
    assert item.detailed_status == Status.SUBMITTED


def test_an_update_already_seen_is_skipped(item):
    first = updates.apply_remote_update(item, _update(), source_key="t")
    assert first is not None and item.detailed_status == Status.IN_PROGRESS
    assert updates.apply_remote_update(item, _update(), source_key="t") is None
    assert len([e for e in _events(item) if e.external_id]) == 1


def test_an_update_older_than_the_crms_last_update_adds_its_words_but_not_its_status(item):
    """Older is decided on the CRM's clock: the time of the CRM's last update applied."""
    staff = factories.gen_user("staff")
    rules.transition(item, "in_progress", staff, note="Started")
    db.session.commit()
    last_seen = utcnow() - timedelta(minutes=10)
    old = (utcnow() - timedelta(minutes=30)).isoformat(timespec="seconds")
    event = updates.apply_remote_update(
        item,
        _update(status="FIXED", updated_datetime=old, description="Old news"),
        source_key="t",
        remote_since=last_seen,
    )
    assert event.kind == EventKind.PUBLIC_NOTE and event.note == "Old news"
    assert item.detailed_status == Status.IN_PROGRESS


def test_an_update_made_before_our_own_last_change_still_moves_the_request(item):
    """Our clock says nothing about the CRM's: a closure stamped (by the CRM) before we
    applied its acknowledgement is still the newest thing the CRM said."""
    ack = (utcnow() - timedelta(minutes=3)).isoformat(timespec="seconds")
    closed = (utcnow() - timedelta(minutes=2)).isoformat(timespec="seconds")
    updates.apply_remote_update(
        item, _update(update_id="a", status="acknowledged", updated_datetime=ack), source_key="t"
    )
    event = updates.apply_remote_update(
        item,
        _update(update_id="b", status="closed", updated_datetime=closed, description="Done"),
        source_key="t",
        remote_since=datetime.fromisoformat(ack),
    )
    assert event.kind == EventKind.STATUS_CHANGED and item.status == "closed"


def test_a_closed_request_is_not_moved_between_closed_outcomes(item):
    staff = factories.gen_user("staff")
    rules.transition(item, "closed", staff, note="Fixed it", resolution="fixed")
    db.session.commit()
    event = updates.apply_remote_update(
        item, _update(status="NO_FURTHER_ACTION", description="Nothing to do"), source_key="t"
    )
    assert event.kind == EventKind.PUBLIC_NOTE
    assert item.resolution == "fixed"


def test_an_update_with_no_words_and_no_change_is_not_shown(item):
    updates.apply_remote_update(item, _update(update_id="a"), source_key="t")
    assert updates.apply_remote_update(
        item, _update(update_id="b", description=""), source_key="t"
    ) is None


@pytest.mark.parametrize(
    "status, detailed, resolution",
    [
        ("INVESTIGATING", Status.ACKNOWLEDGED, None),
        ("ACTION_SCHEDULED", Status.IN_PROGRESS, None),
        ("in progress", Status.IN_PROGRESS, None),
        ("FIXED", Status.CLOSED, "fixed"),
        ("CLOSED", Status.CLOSED, "fixed"),
        ("NOT_COUNCILS_RESPONSIBILITY", Status.CLOSED, "referred"),
        ("NO_FURTHER_ACTION", Status.CLOSED, "no_action_needed"),
        ("DUPLICATE", Status.CLOSED, "duplicate"),
    ],
)
def test_each_status_word_moves_the_request_where_it_says(item, status, detailed, resolution):
    updates.apply_remote_update(item, _update(status=status), source_key="t", referred_to="TVA")
    assert (item.detailed_status, item.resolution) == (detailed, resolution)


def test_an_unknown_status_word_keeps_the_words_only(item):
    event = updates.apply_remote_update(item, _update(status="PONDERING"), source_key="t")
    assert event.kind == EventKind.PUBLIC_NOTE and item.detailed_status == Status.SUBMITTED


def test_the_crm_may_reopen_a_closed_request(item):
    staff = factories.gen_user("staff")
    rules.transition(item, "closed", staff, note="Fixed it", resolution="fixed")
    db.session.commit()
    later = (utcnow() + timedelta(seconds=5)).isoformat(timespec="seconds")
    event = updates.apply_remote_update(
        item, _update(status="OPEN", updated_datetime=later, description="It came back"),
        source_key="t",
    )
    assert event.kind == EventKind.REOPENED and item.status == "open" and item.reopened
