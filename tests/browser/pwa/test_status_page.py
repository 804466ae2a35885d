"""The status page and My requests, in real Chromium at phone size."""

from tests import factories
from tests.browser.pwa.conftest import stored_requests, wait_for
from webapp.domain.lifecycle import workflow as rules
from webapp.models import ServiceRequest
from webapp.plumbing.extensions import db


def test_status_page_shows_status_timeline_photo_map_and_expected_date(live_app, page, screenshot):
    with live_app.app_context():
        request = factories.gen_request("graffiti", description="Tag on the bridge")
        staff = factories.gen_user("staff")
        rules.transition(request, "in_progress", staff, note="Crew on the way")
        db.session.commit()
        public_id = request.public_id
        db.session.remove()
    page.goto(f"/requests/{public_id}")
    assert page.inner_text(".status").endswith("Work in progress")
    assert "A crew is working on it." in page.inner_text(".status-explained")
    assert "aims to finish by" in page.inner_text("main")
    timeline = page.locator(".timeline li")
    assert timeline.count() == 2 and "Crew on the way" in timeline.nth(1).inner_text()
    page.wait_for_selector("#status-map .leaflet-marker-icon")
    screenshot("status")


def test_follow_button_hides_itself_when_the_follow_api_is_absent(live_app, browser_context, page):
    with live_app.app_context():
        public_id = factories.gen_request("graffiti").public_id
        db.session.remove()
    browser_context.route(
        f"**/api/v1/requests/{public_id}/follow",
        lambda route: route.fulfill(
            status=404, content_type="application/json", body='{"error": {"status": 404}}'
        ),
    )
    page.goto(f"/requests/{public_id}")
    page.click("#follow-button")
    page.wait_for_selector("#follow-box", state="hidden")


def test_my_requests_lists_sent_and_waiting_reports_for_a_signed_out_device(
    live_app, browser_context, page, flow, screenshot
):
    flow.complete(gps=True)
    wait_for(page, lambda: stored_requests(live_app))
    page.wait_for_selector("#report-done-message:has-text('311-')")
    browser_context.set_offline(True)
    flow.page.click("#report-another")
    flow.photo()
    flow.location(gps=True)
    flow.category("streetlight")
    flow.description("Dark for a week")
    flow.contact()
    flow.send()
    browser_context.route("**/api/v1/requests", lambda route: route.abort("internetdisconnected"))
    browser_context.set_offline(False)
    page.goto("/my")
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    first = stored_requests(live_app)[0]
    assert first.public_id in page.inner_text("#open-title + ul")
    assert "Streetlight out" in page.inner_text("#outbox-waiting")
    screenshot("my-requests")
    browser_context.unroute("**/api/v1/requests")
    page.click("#outbox-send-now")
    wait_for(page, lambda: len(stored_requests(live_app)) == 2)
    page.reload()
    assert page.locator("#open-title + ul li").count() == 2
    with live_app.app_context():
        devices = {r.device_id for r in db.session.query(ServiceRequest)}
        db.session.remove()
    assert len(devices) == 1 and None not in devices
