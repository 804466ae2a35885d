"""Close the loop in real Chromium: staff closes with a note and an after-photo, the
resident (an anonymous device) sees both and reopens, the request is back in the
queue flagged."""

from __future__ import annotations

import uuid

from PIL import Image

from tests import factories
from tests.browser.signing_in import sign_in
from webapp.plumbing.extensions import db

CREATE = """async (key) => {
  const form = new FormData();
  form.append("service_code", "graffiti");
  form.append("lat", "35.045");
  form.append("long", "-85.31");
  form.append("description", "Tag on the library wall");
  const response = await fetch("/api/v1/requests", {
    method: "POST", body: form,
    headers: {"X-Requested-With": "civic311", "Idempotency-Key": key},
  });
  return (await response.json()).data.id;
}"""


def test_staff_closes_with_photo_resident_sees_it_and_reopens(
    live_app, live_server, browser, browser_context, page, screenshot, tmp_path
):
    with live_app.app_context():
        factories.gen_city()
        staff = factories.gen_user("staff", email="crew@city.gov")
        db.session.commit()
        staff_email = staff.email
        db.session.remove()
    photo = tmp_path / "after.jpg"
    Image.new("RGB", (640, 480), (40, 160, 90)).save(photo, "JPEG")

    page.goto("/")
    public_id = page.evaluate(CREATE, str(uuid.uuid4()))
    assert public_id.startswith("311-")

    staff_context = browser.new_context(base_url=live_server.base_url,
                                        viewport={"width": 1280, "height": 900})
    staff_page = staff_context.new_page()
    sign_in(staff_page, staff_email)
    staff_page.wait_for_url("**/staff/")
    staff_page.click(f"text={public_id}")
    staff_page.select_option("#close-resolution", "fixed")
    staff_page.fill("#close-note", "Painted over the tag this morning.")
    staff_page.set_input_files("#close-photo", str(photo))
    screenshot("staff-closing", staff_page)
    staff_page.click("#close-form button[type=submit]")
    assert "Request closed" in staff_page.locator(".flashes").inner_text()

    page.goto(f"/requests/{public_id}")
    assert "Painted over the tag this morning." in page.content()
    after = page.locator("figure:has(figcaption:text-is('After the work')) img")
    assert after.count() == 1
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", after.element_handle())
    screenshot("resident-sees-closure")
    page.click("#not-fixed")
    page.fill("#reopen-comment", "The tag is still visible from the street.")
    page.click("#reopen-form button[type=submit]")
    assert "open again" in page.locator(".flashes").inner_text()
    screenshot("resident-reopened")

    staff_page.goto("/staff/?reopened=1")
    row = staff_page.locator("tr.is-reopened", has_text=public_id)
    assert row.count() == 1 and "Reopened" in row.inner_text()
    staff_page.keyboard.press("j")
    assert staff_page.evaluate("document.activeElement.textContent") == public_id
    screenshot("staff-queue-reopened", staff_page)
    assert page.console.errors == []
    staff_context.close()
