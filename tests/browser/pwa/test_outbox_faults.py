"""The outbox under the faults of a real network: a send that never gets an answer, an
answer lost on the way back, a server that fails while the phone shows an old page."""

from __future__ import annotations

import json
import re

import pytest
from flask import request
from sqlalchemy import select

from tests import factories
from tests.browser.conftest import registration_id
from tests.browser.pwa.conftest import outbox_rows, stored_requests, wait_for
from tests.browser.test_push_flow import FAKE_SUBSCRIBE
from tests.browser.worker import service_worker_ready
from tests.fakes.silent_server import SilentServer
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.domain.notifications.push import push_channel
from webapp.models import Follow, PushSubscription
from webapp.plumbing.extensions import db

SUBMIT = "**/api/v1/requests"
SEND_TIMEOUT_S = 1.5

ADD_REPORTS = """async (count) => {
  for (let i = 0; i < count; i += 1) {
    await Civic311Outbox.addReport({
      client_uuid: crypto.randomUUID(),
      fields: [["service_code", "graffiti"], ["lat", "35.045"], ["long", "-85.31"],
               ["description", `Tag number ${i}`]],
      photos: [],
      captured_at: new Date().toISOString(),
      service_name: "Graffiti",
    });
  }
}"""


@pytest.fixture
def live_app(make_app, tile_server):
    """The test city, with a short send time limit so a hanging send gives up quickly.

    ``live_app.failing_paths`` holds paths the server answers with a 503 (a server in
    trouble: the browser's navigation preload cannot be routed from the test).
    """
    app = make_app(
        TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png", OUTBOX_SEND_TIMEOUT=SEND_TIMEOUT_S
    )
    app.failing_paths = set()

    @app.before_request
    def fail_when_asked():
        if request.path in app.failing_paths:
            return "The server is in trouble", 503
        return None

    with app.app_context():
        factories.gen_city()
        db.session.remove()
    return app


@pytest.fixture
def silent_server():
    """A local TCP server that accepts the connection and never answers."""
    server = SilentServer()
    yield server
    server.stop()


def test_a_send_that_never_gets_an_answer_gives_up_and_the_outbox_delivers_without_reload(
    live_app, browser_context, page, silent_server, screenshot
):
    page.goto("/my")
    service_worker_ready(page)
    page.evaluate("window.stillTheSamePage = true")

    def to_the_silent_server(route):
        if route.request.method == "POST":
            route.continue_(url=f"{silent_server.url}/api/v1/requests")
        else:
            route.continue_()

    browser_context.route(SUBMIT, to_the_silent_server)
    page.evaluate(ADD_REPORTS, 3)
    page.wait_for_selector("#outbox-summary:has-text('3 reports waiting to send')")
    page.click("#outbox-send-now")
    wait_for(page, lambda: silent_server.connections >= 1)
    # The hanging send ran out of time and was counted as a failed attempt: the lock is free.
    wait_for(page, lambda: any(row["attempts"] >= 1 for row in outbox_rows(page)))
    assert stored_requests(live_app) == []
    screenshot("hanging-send-gave-up")

    browser_context.unroute(SUBMIT)
    wait_for(page, lambda: len(stored_requests(live_app)) == 3, timeout=30)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert outbox_rows(page) == []
    assert page.evaluate("window.stillTheSamePage") is True
    assert silent_server.bytes_received > 0


CREATE_REQUEST = """async () => {
  const form = new FormData();
  form.append("service_code", "graffiti");
  form.append("lat", "35.045");
  form.append("long", "-85.31");
  form.append("description", "Tags on the library wall");
  const response = await fetch("/api/v1/requests", {
    method: "POST", body: form,
    headers: {"X-Requested-With": "civic311", "Idempotency-Key": crypto.randomUUID()},
  });
  return (await response.json()).data.id;
}"""
COPY_NOTICE = ".saved-copy-notice"
COPY_TIME = re.compile(r"copy saved on this phone on .*\d{1,2}:\d{2}")


def test_a_page_served_from_the_saved_copies_says_it_is_a_copy_and_when_it_was_saved(
    live_app, browser_context, page, screenshot
):
    page.goto("/my")
    service_worker_ready(page)
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    page.wait_for_selector("text=No open requests.")
    assert not page.locator(COPY_NOTICE).is_visible()
    public_id = page.evaluate(CREATE_REQUEST)

    live_app.failing_paths.add("/my")
    page.goto("/my")
    notice = page.locator(COPY_NOTICE)
    assert notice.is_visible()
    assert COPY_TIME.search(notice.inner_text()), notice.inner_text()
    assert public_id not in page.content()
    screenshot("copy-on-server-error")
    live_app.failing_paths.clear()

    browser_context.set_offline(True)
    page.goto("/my")
    assert page.locator(COPY_NOTICE).is_visible()
    screenshot("copy-offline")

    browser_context.set_offline(False)
    page.goto("/my")
    page.wait_for_selector(f"text={public_id}")
    assert not page.locator(COPY_NOTICE).is_visible()
    assert page.console.errors == []


def test_the_phone_keeps_its_first_report_when_the_answer_to_it_is_lost(
    live_app, browser_context, page, flow, push_service, screenshot
):
    keys = push_service.subscription()
    browser_context.add_init_script(FAKE_SUBSCRIBE % json.dumps(keys.as_json()))
    answers = {"cut": 0, "passed": 0}

    def cut_the_first_answer(route):
        if route.request.method == "POST" and not answers["cut"]:
            answers["cut"] += 1
            route.fetch()  # the server stores the report and mints a device...
            # ...whose token never reaches the phone: route.fetch() shares the context's
            # cookie jar, so take back the cookie the lost answer would have set.
            browser_context.clear_cookies(name="civic_device")
            route.abort("connectionreset")
        else:
            answers["passed"] += route.request.method == "POST"
            route.continue_()

    browser_context.route(SUBMIT, cut_the_first_answer)
    flow.complete(gps=True)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert answers == {"cut": 1, "passed": 1}
    [stored] = stored_requests(live_app)
    public_id = stored.public_id

    page.goto("/my")
    page.wait_for_selector(f"#open-title ~ ul >> text={public_id}")
    screenshot("my-requests-after-lost-answer")

    page.goto(f"/requests/{public_id}")
    page.get_by_role("button", name="Notify me when this is fixed").click()
    page.get_by_text("Notifications are on").wait_for()
    with live_app.app_context():
        subscription = db.session.scalars(select(PushSubscription)).one()
        service_request = requests_domain.get_by_public_id(public_id)
        assert subscription.endpoint == keys.endpoint
        assert subscription.device_id == service_request.device_id
        assert db.session.scalars(
            select(Follow.device_id).where(Follow.request_id == service_request.id)
        ).all() == [service_request.device_id]
        staff = factories.gen_user("staff")
        workflow.transition(
            service_request, "closed", staff, note="Painted over.", resolution="fixed"
        )
        db.session.commit()
        assert push_channel.deliver_due() == 1
        db.session.remove()
    [delivery] = push_service.deliveries
    assert delivery.payload["notification"]["body"] == "Painted over."


# An outbox as the first version of the app left it: no index beside the reports.
FIRST_VERSION_OUTBOX = """async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("civic311", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("outbox", {keyPath: "client_uuid"});
      open.result.createObjectStore("sent", {keyPath: "client_uuid"});
      open.result.createObjectStore("meta");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const reports = [0, 1].map((i) => ({
    client_uuid: crypto.randomUUID(), state: "waiting", attempts: 3, next_attempt_at: 0,
    error: null, saved_at: Date.now() - 60000 + i, service_name: "Graffiti", photos: [],
    fields: [["service_code", "graffiti"], ["lat", "35.045"], ["long", "-85.31"],
             ["description", `Left from before the update ${i}`]],
  }));
  await new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readwrite");
    reports.forEach((report) => tx.objectStore("outbox").put(report));
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}"""


def test_reports_left_waiting_by_the_first_version_are_indexed_and_sent(
    live_app, live_server, browser
):
    context = browser.new_context(base_url=live_server.base_url, service_workers="block")
    try:
        page = context.new_page()
        page.goto("/manifest.webmanifest")
        page.evaluate(FIRST_VERSION_OUTBOX)
        context.route(SUBMIT, lambda route: route.abort("internetdisconnected"))
        page.goto("/my")
        page.wait_for_selector("#outbox-summary:has-text('2 reports waiting to send')")
        assert len(outbox_rows(page, "outbox_index")) == 2
        context.unroute(SUBMIT)
        page.click("#outbox-send-now")
        wait_for(page, lambda: len(stored_requests(live_app)) == 2)
        page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
        assert outbox_rows(page, "outbox_index") == []
    finally:
        context.close()


def test_a_long_outbox_is_counted_in_full_and_listed_in_brief(live_app, browser_context, page):
    page.goto("/my")
    browser_context.set_offline(True)
    page.evaluate(ADD_REPORTS, 25)
    page.wait_for_selector("#outbox-summary:has-text('25 reports waiting to send')")
    page.wait_for_selector("#outbox-waiting .outbox-item-more:has-text('and 5 more')")
    assert page.locator("#outbox-waiting .outbox-item-waiting").count() == 20
    assert len(outbox_rows(page, "outbox_index")) == 25


def test_the_service_workers_sync_gives_up_on_a_silent_server_too(
    live_app, live_server, browser_context, page, silent_server
):
    page.goto("/my")
    service_worker_ready(page)
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")
    assert f'"outboxSendTimeoutMs":{int(SEND_TIMEOUT_S * 1000)}' in page.evaluate(
        "fetch('/sw.js').then((r) => r.text())"
    )
    worker_posts = []
    browser_context.on(
        "request",
        lambda r: worker_posts.append(r.url) if r.method == "POST" and r.service_worker else None,
    )

    def to_the_silent_server(route):
        if route.request.method == "POST":
            route.continue_(url=f"{silent_server.url}/api/v1/requests")
        else:
            route.continue_()

    browser_context.route(SUBMIT, to_the_silent_server)
    page.evaluate(ADD_REPORTS, 1)  # saved only: the page does not flush it
    cdp = browser_context.new_cdp_session(page)
    sync = {
        "origin": live_server.base_url,
        "registrationId": registration_id(cdp, page),
        "tag": "civic311-outbox",
        "lastChance": False,
    }
    cdp.send("ServiceWorker.dispatchSyncEvent", sync)
    wait_for(page, lambda: silent_server.connections >= 1)
    wait_for(page, lambda: outbox_rows(page)[0]["attempts"] >= 1)
    assert stored_requests(live_app) == []
    browser_context.unroute(SUBMIT)
    cdp.send("ServiceWorker.dispatchSyncEvent", sync)
    wait_for(page, lambda: stored_requests(live_app))
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert worker_posts, "the worker did not send"
