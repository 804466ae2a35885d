"""One word per status: the status badge, the timeline, the push message and the API
all name "acknowledged" the same way, and a stranger is never told it is their report."""

from __future__ import annotations

import pytest

from tests import factories
from webapp.api.serialize import request_json
from webapp.domain import glossary
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications import notify
from webapp.models import EventKind, Status
from webapp.plumbing.extensions import db
from webapp.wording import event_label, status_label


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def test_acknowledged_has_one_name_everywhere(city):
    staff = factories.gen_user("staff")
    request = factories.gen_request()
    event = requests_domain.transition(request, Status.ACKNOWLEDGED, staff)
    db.session.commit()
    word = glossary.status_word(Status.ACKNOWLEDGED)
    assert word == "Seen by the city"
    assert event.kind == EventKind.ACKNOWLEDGED
    ack = event
    assert status_label(request) == word
    assert event_label(ack) == word
    assert request_json(request)["status_label"] == word
    title = notify.build_payload(ack, "acknowledged", "/")["notification"]["title"]
    assert word in title and "received" not in title.lower()


@pytest.mark.parametrize(
    ("status", "own", "expected"),
    [
        (Status.SUBMITTED, True, "The city has your report."),
        (Status.SUBMITTED, False, "The city has this report."),
        (Status.ACKNOWLEDGED, True, "seen your report"),
        (Status.ACKNOWLEDGED, False, "seen this report"),
        (Status.IN_PROGRESS, False, "A crew is working on it."),
    ],
)
def test_status_meaning_speaks_to_the_reader(status, own, expected):
    assert expected in glossary.status_meaning(status, own=own)


def test_a_stranger_is_not_told_it_is_their_report(client, city):
    request = factories.gen_request()
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert "The city has this report." in page and "your report" not in page
