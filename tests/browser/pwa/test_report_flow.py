"""The report flow in real Chromium at phone size: photo, place, category, send."""

from tests.browser.pwa.conftest import outbox_rows, stored_requests, wait_for


def test_resident_reports_with_gps_and_photo_and_sees_its_status(
    live_app, page, flow, photo_file, screenshot
):
    flow.open()
    flow.photo(photo_file)
    flow.location(gps=True)
    flow.category("pothole", answers={"#attr-pothole-size": "large"})
    flow.description("Deep pothole in the right lane")
    flow.contact(contact_name="Rita Resident", contact_email="rita@example.net")
    flow.send()
    rows = wait_for(page, lambda: stored_requests(live_app))
    assert len(rows) == 1
    stored = rows[0]
    assert stored.service.service_code == "pothole"
    assert (round(stored.lat, 3), round(stored.long, 3)) == (35.045, -85.31)
    assert stored.location_accuracy_m == 12
    assert stored.attribute_values == {"size": "large"}
    assert stored.contact_email == "rita@example.net"
    assert len(stored.photos) == 1 and max(stored.photos[0].width, stored.photos[0].height) <= 1600
    page.wait_for_selector(f"#report-done-message:has-text('{stored.public_id}')")
    screenshot("7-sent")
    assert outbox_rows(page) == []
    assert outbox_rows(page, "sent")[0]["public_id"] == stored.public_id
    page.click("#report-done-link")
    page.wait_for_selector(f"h1:has-text('{stored.public_id}')")
    assert page.locator(".photo-list img").count() == 1
    screenshot("8-status-page")
    assert page.console.errors == []
