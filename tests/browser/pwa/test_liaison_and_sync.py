"""A liaison logs a request for a neighbor in the browser, and the service worker's
Background Sync handler delivers a waiting report on its own."""


from sqlalchemy import select

from tests import factories
from tests.browser.conftest import registration_id
from tests.browser.pwa.conftest import outbox_rows, stored_requests, wait_for
from tests.browser.signing_in import sign_in
from tests.browser.worker import service_worker_ready
from webapp.models import Neighborhood
from webapp.plumbing.extensions import db

SUBMIT = "**/api/v1/requests"

HOLD_BACK = """async () => {
  await navigator.locks.request("civic311-outbox", async () => {
    const [item] = await Civic311Outbox.listOutbox();
    item.next_attempt_at = Date.now() + 60 * 60 * 1000;
    await Civic311Outbox.updateReport(item);
  });
}"""


def test_liaison_logs_a_community_issue_for_a_neighbor(live_app, page, flow, screenshot):
    with live_app.app_context():
        west = db.session.scalar(select(Neighborhood).where(Neighborhood.name == "West Side"))
        liaison = factories.gen_user("liaison", neighborhood=west)
        db.session.commit()
        liaison_id, email = liaison.id, liaison.email
        db.session.remove()
    sign_in(page, email)
    flow.open()
    flow.photo()
    flow.location(gps=True)
    flow.category("streetlight")
    flow.description("Whole block dark since Friday")
    page.wait_for_selector("#step-contact-title:has-text('Logging for a neighbor')")
    assert page.locator("#notify").count() == 0
    page.check("#community_issue")
    flow.contact(
        contact_name="Nora Neighbor", contact_phone="423-555-0199", contact_email="nora@example.org"
    )
    page.wait_for_selector("#review-summary:has-text('Community issue')")
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))
    assert len(stored) == 1
    request = stored[0]
    assert request.channel == "liaison"
    assert request.logged_by_id == liaison_id
    assert request.requester_id is None
    assert (request.contact_name, request.contact_phone, request.contact_email) == (
        "Nora Neighbor",
        "423-555-0199",
        "nora@example.org",
    )
    assert request.community_issue is True
    page.wait_for_selector(f"#report-done-message:has-text('{request.public_id}')")
    assert page.console.errors == []


def test_background_sync_event_delivers_a_waiting_report_exactly_once(
    live_app, live_server, browser_context, page, flow
):
    page.goto("/")
    service_worker_ready(page)
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")
    posts = []
    browser_context.on(
        "request",
        lambda r: (
            posts.append(r) if r.method == "POST" and r.url.endswith("/api/v1/requests") else None
        ),
    )
    browser_context.route(SUBMIT, lambda route: route.abort("internetdisconnected"))
    flow.complete(gps=True)
    wait_for(page, lambda: (outbox_rows(page) or [{}])[0].get("attempts", 0) >= 1)
    page.wait_for_timeout(1500)
    page.evaluate(HOLD_BACK)
    browser_context.unroute(SUBMIT)
    posts.clear()
    page.wait_for_timeout(3000)
    assert posts == [] and stored_requests(live_app) == [], "something other than sync sent it"

    cdp = browser_context.new_cdp_session(page)
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": live_server.base_url,
            "registrationId": registration_id(cdp, page),
            "tag": "civic311-outbox",
            "lastChance": False,
        },
    )
    wait_for(page, lambda: stored_requests(live_app))
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert len(stored_requests(live_app)) == 1
    assert len(posts) == 1 and posts[0].service_worker is not None
    assert outbox_rows(page) == []
