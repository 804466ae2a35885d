"""The request's life publishes events; subscribers hear them in the transaction or after
commit, in the order they subscribed, and the request's life imports no channel."""

import ast
from pathlib import Path

import pytest

from tests import factories
from webapp.domain import events, subscriptions
from webapp.domain.lifecycle import assignment, location, merging
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.models import EventKind, RequestEvent
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = (
    "webapp.domain.notifications",
    "webapp.domain.open311",
    "webapp.domain.intake",
    "webapp.jobs",
)


@pytest.fixture
def heard(monkeypatch):
    """Every event published while the test runs, with its moment of delivery."""
    found: list[tuple[str, object]] = []
    kept = list(events._SUBSCRIPTIONS)
    monkeypatch.setattr(events, "_SUBSCRIPTIONS", kept)
    events.subscribe(object, lambda happened: found.append(("now", happened)))
    events.subscribe(
        object, lambda happened: found.append(("after", happened)), when=events.AFTER_COMMIT
    )
    return found


def kinds(found, moment):
    return [type(happened).__name__ for when, happened in found if when == moment]


def test_a_report_publishes_its_service_choice_then_its_creation(app, city, heard):
    request = factories.gen_request("graffiti")
    assert kinds(heard, "now") == ["ServiceChosen", "Created"]
    assert kinds(heard, "after") == ["ServiceChosen", "Created"]
    created = heard[1][1]
    assert created.request is request and created.entry.kind == EventKind.CREATED


def test_each_change_publishes_its_own_event(app, city, heard):
    staff = factories.gen_user("staff")
    request = factories.gen_request("graffiti")
    other = factories.gen_request("graffiti")
    heard.clear()
    requests_domain.transition(request, "acknowledged", staff)
    requests_domain.add_note(request, staff, "On our list", public=True)
    location.place(request, staff, factories.INSIDE[0], factories.INSIDE[1])
    assignment.assign(request, staff, department_id=request.department_id)
    merging.merge(other, request, staff)
    assert kinds(heard, "now") == [
        "Transitioned",
        "Noted",
        "Moved",
        "Assigned",
        "Transitioned",
        "Merged",
    ]
    assert all(isinstance(h, events.RequestChanged) for _, h in heard)


def test_after_commit_subscribers_run_only_when_the_change_commits(app, city, heard):
    staff = factories.gen_user("staff")
    request = factories.gen_request("graffiti")
    heard.clear()
    later = []
    events.subscribe(events.Noted, later.append, when=events.AFTER_COMMIT)
    requests_domain.add_note(request, staff, "Rolled back", public=False)
    assert later == []
    db.session.rollback()
    db.session.commit()
    assert later == []
    requests_domain.add_note(request, staff, "Kept", public=False)
    assert later == []
    db.session.commit()
    assert [event.entry.note for event in later] == ["Kept"]


def test_subscribers_hear_in_the_order_they_subscribed_and_hear_subclasses(monkeypatch):
    monkeypatch.setattr(events, "_SUBSCRIPTIONS", [])
    order = []
    events.subscribe(events.RequestChanged, lambda e: order.append("any change"))
    events.subscribe(events.Noted, lambda e: order.append("notes"))
    events.subscribe(events.Created, lambda e: order.append("new reports"))
    events.publish(events.Noted(RequestEvent(kind=EventKind.PUBLIC_NOTE)))
    assert order == ["any change", "notes"]
    with pytest.raises(ValueError):
        events.subscribe(events.Noted, print, when="later")


def test_a_failing_subscriber_fails_the_change(app, city, monkeypatch):
    staff = factories.gen_user("staff")
    request = factories.gen_request("graffiti")
    monkeypatch.setattr(events, "_SUBSCRIPTIONS", list(events._SUBSCRIPTIONS))

    def broken(event):
        raise RuntimeError("outbox is broken")

    events.subscribe(events.Noted, broken)
    with pytest.raises(RuntimeError):
        requests_domain.add_note(request, staff, "Never stored", public=True)
    db.session.rollback()
    notes = db.session.query(RequestEvent).filter_by(note="Never stored").count()
    assert notes == 0


def test_every_subscription_is_listed_in_the_subscriptions_module():
    listed = [(event, when, subscriber) for event, when, _, subscriber in subscriptions.SUBSCRIPTIONS]
    subscribed = [(item.event, item.when, item.subscriber) for item in events.subscriptions()]
    assert subscribed == listed
    assert len(listed) == 13 and all(what for _, _, what, _ in subscriptions.SUBSCRIPTIONS)


def test_the_request_life_imports_no_channel():
    offenders = []
    for path in sorted((ROOT / "webapp" / "domain" / "lifecycle").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(name.startswith(CHANNELS) for name in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
