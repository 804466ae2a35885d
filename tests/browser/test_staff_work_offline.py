"""My work offline at phone size: open it, lose the signal, acknowledge, note and close three
requests with after-photos, get the signal back → each action arrives once, in order; the
request another staff member closed meanwhile has its queued actions refused and kept."""

from __future__ import annotations

import time

from PIL import Image
from sqlalchemy import select

from tests import factories
from tests.browser.signing_in import sign_in
from tests.browser.worker import service_worker_ready
from webapp.domain.lifecycle import assignment as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.models import EventKind, Photo, RequestEvent, ServiceRequest, StaffAction
from webapp.plumbing.extensions import db

SAVED = (
    "path => caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
    ".then(c => c.match(path, {ignoreSearch: true}))))).then(found => found.some(Boolean))"
)


def eventually(page, expression: str, arg=None, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value or time.monotonic() > deadline:
            assert value, f"never true: {expression}"
            return value
        time.sleep(0.1)


def card(page, public_id: str):
    return page.locator(f"li.work-card[data-request='{public_id}']")


def test_crew_works_offline_and_each_action_arrives_once_in_order(
    live_app, live_server, browser_context, page, screenshot, tmp_path
):
    with live_app.app_context():
        factories.gen_city()
        crew = factories.gen_user("staff", name="Casey Crew")
        other = factories.gen_user("staff", name="Robin Other")
        ids = []
        for lat, long in ((35.07, -85.28), (35.046, -85.31), (35.055, -85.30)):
            req = factories.gen_request("graffiti", lat=lat, long=long)
            requests_domain.assign(req, crew, assignee=crew)
            ids.append(req.public_id)
        db.session.commit()
        email, other_id = crew.email, other.id
        db.session.remove()
    photo = tmp_path / "after.jpg"
    Image.new("RGB", (800, 600), (40, 160, 90)).save(photo, "JPEG")

    sign_in(page, email)
    page.goto("/staff/work")
    service_worker_ready(page)
    page.wait_for_function("!!navigator.serviceWorker.controller")
    page.wait_for_selector("[data-work][data-ready='1']")
    assert page.locator("li.work-card").count() == 3
    # Nearest first from where the crew stands (35.045, -85.31), then nearest to that.
    order = page.eval_on_selector_all("li.work-card", "cards => cards.map(c => c.dataset.request)")
    assert order == [ids[1], ids[2], ids[0]]
    eventually(page, SAVED, "/staff/work")
    eventually(page, SAVED, "/static/js/staff-work-core.js")
    eventually(page, SAVED, "/static/js/staff-work.js")
    screenshot("1-my-work-online")

    browser_context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-work-age]:has-text('No signal')")
    assert page.locator("li.work-card").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    taps = {}
    for public_id in order:
        taps[public_id] = 0

        def tap(selector, public_id=public_id):
            taps[public_id] += 1
            card(page, public_id).locator(selector).click()

        tap("[data-act='acknowledge']")
        page.wait_for_selector(f"li.work-card[data-request='{public_id}'] .work-pending-item")
        tap("details:has([data-form='note']) > summary")
        taps[public_id] += 1  # the note field, then typing
        card(page, public_id).locator("[data-form='note'] textarea").fill(f"Crew on site at {public_id}.")
        tap("[data-form='note'] button[type=submit]")
        page.wait_for_function(
            "id => document.querySelectorAll(`li.work-card[data-request='${id}'] .work-pending-item`).length === 2",
            arg=public_id,
        )
        tap("details:has([data-form='close']) > summary")
        close = card(page, public_id).locator("[data-form='close']")
        taps[public_id] += 2  # the public note field (typing), the camera for the after-photo
        close.locator("textarea").fill("Painted over.")
        close.locator("input[type=file]").set_input_files(str(photo))
        tap("[data-form='close'] button[type=submit]")
        page.wait_for_function(
            "id => document.querySelectorAll(`li.work-card[data-request='${id}'] .work-pending-item`).length === 3",
            arg=public_id,
        )
    assert page.locator("[data-work-outbox]").get_attribute("data-waiting") == "9"
    screenshot("2-nine-actions-queued-offline")

    # Meanwhile another staff member closes the third stop.
    conflicted = order[2]
    with live_app.app_context():
        req = db.session.scalars(select(ServiceRequest).where(ServiceRequest.public_id == conflicted)).one()
        workflow.transition(req, "closed", db.session.get(type(crew), other_id), note="Done already.", resolution="fixed")
        db.session.commit()
        db.session.remove()

    browser_context.set_offline(False)
    page.wait_for_selector("[data-work-outbox][data-waiting='0']", timeout=30_000)
    conflicts = page.locator(".work-conflict")
    assert conflicts.count() == 3
    kept_close = page.locator(f".work-conflict[data-request='{conflicted}'][data-kind='close']")
    assert "Closed by someone else meanwhile." in kept_close.inner_text()
    screenshot("3-back-online-one-conflict")

    with live_app.app_context():
        actions = db.session.scalars(select(StaffAction).order_by(StaffAction.id)).all()
        assert len(actions) == 9 and len({a.idempotency_key for a in actions}) == 9
        assert sorted(a.outcome for a in actions) == ["applied"] * 6 + ["conflict"] * 3
        for public_id in order[:2]:
            req = db.session.scalars(select(ServiceRequest).where(ServiceRequest.public_id == public_id)).one()
            kinds = [
                e.kind
                for e in db.session.scalars(
                    select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
                )
                if e.actor_id is not None and e.actor.display_name == "Casey Crew" and e.kind != EventKind.ASSIGNED
            ]
            assert kinds == [EventKind.ACKNOWLEDGED, EventKind.PRIVATE_NOTE, EventKind.STATUS_CHANGED]
            assert req.is_closed
            photos = db.session.scalars(select(Photo).where(Photo.request_id == req.id, Photo.kind == "closure")).all()
            assert len(photos) == 1
        db.session.remove()

    # The refused actions are kept across a reload until the crew drops or redoes them.
    page.reload()
    page.wait_for_selector("[data-work][data-ready='1']")
    assert page.locator(".work-conflict").count() == 3
    page.locator(f".work-conflict[data-request='{conflicted}'][data-kind='acknowledge'] [data-conflict='drop']").click()
    page.wait_for_function("() => document.querySelectorAll('.work-conflict').length === 2")
    # Acknowledge 1, note 3, close with its reason (Fixed, preselected), public note and
    # after-photo 4: eight taps per request, no page load.
    assert set(taps.values()) == {8}
    # Map tiles never viewed cannot load without a signal, and the browser logs each 409
    # answer (the three refused actions); nothing else failed.
    offline = ("ERR_INTERNET_DISCONNECTED", "ERR_FAILED")
    errors = [e for e in page.console.errors if not any(word in e for word in offline)]
    assert [e for e in errors if "409 (CONFLICT)" not in e] == []
    assert len(errors) == 3
