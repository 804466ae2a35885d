"""The offline outbox in real Chromium: nothing is lost, everything arrives exactly once."""

from PIL import Image

from tests.browser.pwa.conftest import make_jpeg, outbox_rows, stored_requests, wait_for
from tests.browser.worker import service_worker_ready
from webapp.domain.lifecycle.storage import photo_store

SUBMIT = "**/api/v1/requests"


def posts_to_submit(context) -> list:
    """Record every POST the page or worker makes to the submission endpoint."""
    seen = []
    context.on(
        "request",
        lambda r: (
            seen.append(r) if r.method == "POST" and r.url.endswith("/api/v1/requests") else None
        ),
    )
    return seen


def display_image(app, request) -> Image.Image:
    """The stored display derivative of a request's first photo."""
    with app.app_context():
        path = photo_store().path(request.photos[0].display_key)
    with Image.open(path) as image:
        image.load()
        return image.copy()


def test_offline_report_waits_survives_reload_and_arrives_once_with_its_photo(
    live_app, browser_context, page, flow, photo_file, screenshot
):
    flow.open()
    browser_context.set_offline(True)
    flow.photo(photo_file)
    flow.location(gps=True)
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    screenshot("7-waiting-offline")
    browser_context.route(SUBMIT, lambda route: route.abort("internetdisconnected"))
    browser_context.set_offline(False)
    page.reload()
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    rows = outbox_rows(page)
    assert len(rows) == 1 and rows[0]["photos"][0]["type"] == "image/jpeg"
    assert rows[0]["photos"][0]["size"] > 1000
    screenshot("8-after-reload")
    assert stored_requests(live_app) == []
    browser_context.unroute(SUBMIT)
    page.click("#outbox-send-now")
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    screenshot("9-sent")
    stored = stored_requests(live_app)
    assert len(stored) == 1 and len(stored[0].photos) == 1
    assert display_image(live_app, stored[0]).size == (1600, 800)
    assert outbox_rows(page) == []


def test_truly_offline_reload_keeps_the_report(live_app, browser_context, page, flow, photo_file):
    page.goto("/")
    service_worker_ready(page)
    page.reload()
    flow.open()
    browser_context.set_offline(True)
    flow.photo(photo_file)
    flow.location(gps=True)
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    page.reload()
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    assert outbox_rows(page)[0]["photos"][0]["size"] > 1000
    browser_context.set_offline(False)
    wait_for(page, lambda: stored_requests(live_app))
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert len(stored_requests(live_app)) == 1


def test_server_errors_are_retried_with_backoff_and_one_request_arrives(
    live_app, browser_context, page, flow, photo_file
):
    failures = {"left": 2}

    def fail_twice(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=500, content_type="application/json", body='{"error": {}}')
        else:
            route.continue_()

    posts = posts_to_submit(browser_context)
    browser_context.route(SUBMIT, fail_twice)
    flow.complete(photo_file, gps=True)
    wait_for(page, lambda: stored_requests(live_app), timeout=30)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert failures["left"] == 0 and len(posts) == 3
    assert len(stored_requests(live_app)) == 1


def test_lost_response_is_replayed_and_not_duplicated(live_app, browser_context, page, flow):
    state = {"calls": 0}

    def lose_first_answer(route):
        state["calls"] += 1
        if state["calls"] == 1:
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    browser_context.route(SUBMIT, lose_first_answer)
    flow.complete(gps=True)
    page.wait_for_selector(
        "#outbox-summary:has-text('All your reports have been sent')", timeout=20_000
    )
    assert state["calls"] == 2
    assert len(stored_requests(live_app)) == 1


def test_the_same_item_flushed_from_two_places_at_once_is_sent_once(
    live_app, browser_context, page, flow
):
    posts = posts_to_submit(browser_context)
    flow.open()
    browser_context.set_offline(True)
    flow.photo()
    flow.location(gps=True)
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    browser_context.set_offline(False)
    tallies = page.evaluate(
        "Promise.all([Civic311Outbox.flush({force: true}), Civic311Outbox.flush({force: true}),"
        " Civic311Outbox.flush({force: true})])"
    )
    wait_for(page, lambda: stored_requests(live_app))
    assert sum(t.get("sent", 0) for t in tallies if t) <= 1
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert len(posts) == 1
    assert len(stored_requests(live_app)) == 1


def test_without_background_sync_reports_go_on_online_and_page_load(
    live_app, browser_context, page, flow
):
    browser_context.add_init_script("delete window.SyncManager; delete self.SyncManager;")
    flow.open()
    assert page.evaluate("typeof SyncManager") == "undefined"
    browser_context.set_offline(True)
    flow.photo()
    flow.location(gps=True)
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    browser_context.set_offline(False)
    wait_for(page, lambda: stored_requests(live_app))
    browser_context.route(SUBMIT, lambda route: route.abort("internetdisconnected"))
    flow.complete(gps=True)
    page.wait_for_selector("#outbox-summary:has-text('1 report waiting to send')")
    browser_context.unroute(SUBMIT)
    page.reload()
    wait_for(page, lambda: len(stored_requests(live_app)) == 2)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")


def test_photo_with_exif_orientation_6_arrives_upright(live_app, page, flow, tmp_path):
    sideways = make_jpeg(tmp_path / "sideways.jpg", size=(2400, 1200), orientation=6)
    flow.complete(sideways, gps=True)
    stored = wait_for(page, lambda: stored_requests(live_app))
    image = display_image(live_app, stored[0]).convert("RGB")
    assert image.size == (800, 1600)
    top, bottom = image.getpixel((400, 200)), image.getpixel((400, 1400))
    assert top[0] > 180 and top[2] < 80, top
    assert bottom[2] > 180 and bottom[0] < 80, bottom


def test_map_tiles_failing_still_completes_with_gps(
    live_app, browser_context, page, flow, tile_server, screenshot
):
    browser_context.route(f"{tile_server.url}/**", lambda route: route.abort("failed"))
    flow.open()
    flow.photo()
    flow.category()
    page.wait_for_selector("#step-location-title:visible")
    page.wait_for_selector("#report-map.map-offline")
    page.wait_for_selector("#location-status:has-text('map cannot load')")
    screenshot("map-grey")
    flow.location(gps=True)
    flow.description()
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))
    assert round(stored[0].lat, 3) == 35.045
    assert tile_server.fake.requested == []


def test_landmark_alone_completes_the_report_when_the_map_is_down(
    live_app, browser_context, page, flow, tile_server
):
    browser_context.route(f"{tile_server.url}/**", lambda route: route.abort("failed"))
    flow.open()
    flow.photo()
    flow.location(gps=False, landmark="In front of the public library")
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))
    assert stored[0].landmark == "In front of the public library"


def test_report_outside_the_city_needs_attention_then_is_fixed_and_sent(
    live_app, page, flow, screenshot
):
    flow.open()
    flow.photo()
    flow.location(gps=False, lat=36.16, long=-86.78)
    flow.category()
    flow.description()
    flow.contact()
    flow.send()
    page.wait_for_selector("#outbox-summary:has-text('1 report needs your attention')")
    page.wait_for_selector(".outbox-error:has-text('outside the city limits')")
    screenshot("needs-attention")
    assert outbox_rows(page)[0]["state"] == "attention"
    assert stored_requests(live_app) == []
    page.click(".outbox-fix")
    page.wait_for_selector("#editing-notice:visible")
    page.wait_for_selector("#step-location-title:visible")
    assert "outside the city limits" in page.inner_text("#editing-notice")
    screenshot("fixing")
    page.click("#use-location")
    page.wait_for_selector("#location-status:has-text('accurate to about')")
    for _ in range(3):  # location → description → contact → review
        page.click("#step-next")
    page.click("#send-report")
    page.wait_for_selector("#report-done:visible")
    stored = wait_for(page, lambda: stored_requests(live_app))
    assert len(stored) == 1 and round(stored[0].lat, 3) == 35.045
    page.wait_for_selector("#report-done-message:has-text('311-')")
    assert outbox_rows(page) == []


def test_twenty_waiting_reports_with_photos_flush_in_one_pass(live_app, browser_context, page):
    posts = posts_to_submit(browser_context)
    page.goto("/")
    browser_context.set_offline(True)
    page.evaluate(
        """async () => {
          const canvas = document.createElement("canvas");
          canvas.width = 1600; canvas.height = 1200;
          const ctx = canvas.getContext("2d");
          for (let i = 0; i < 20; i += 1) {
            ctx.fillStyle = `rgb(${i * 12}, 80, 160)`;
            ctx.fillRect(0, 0, 1600, 1200);
            const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.8));
            await Civic311Outbox.addReport({
              client_uuid: crypto.randomUUID(),
              fields: [["service_code", "graffiti"], ["lat", "35.045"], ["long", "-85.31"],
                       ["description", `Report ${i}`]],
              photos: [{data: await blob.arrayBuffer(), type: "image/jpeg"}],
              captured_at: new Date().toISOString(),
              service_name: "Graffiti",
            });
          }
        }"""
    )
    page.wait_for_selector("#outbox-summary:has-text('20 reports waiting to send')")
    browser_context.set_offline(False)
    wait_for(page, lambda: len(stored_requests(live_app)) == 20, timeout=60)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert len(posts) == 20
    assert all(len(r.photos) == 1 for r in stored_requests(live_app))
