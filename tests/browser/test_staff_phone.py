"""A crew member closes a request from the street: the queue as cards with its filters
folded away, and on the workbench acknowledge → assign → public note → close with an
after-photo, each done in place (no page reload), counted in taps."""

from __future__ import annotations

from PIL import Image

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.signing_in import sign_in
from webapp.domain.lifecycle import requests as requests_domain
from webapp.plumbing.extensions import db

MAX_TAPS = 8
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def flash_says(page, text: str):
    page.wait_for_selector(f".flashes:has-text('{text}')")


def test_crew_closes_a_request_at_phone_size_in_eight_taps_without_reloads(
    live_app, live_server, browser, screenshot, tmp_path
):
    with live_app.app_context():
        factories.gen_city()
        staff = factories.gen_user("staff", name="Casey Crew")
        for _ in range(3):
            factories.gen_request("graffiti")
        public_id = factories.gen_request(
            "pothole", description="Deep hole by the school", attributes={"size": "large"}
        ).public_id
        db.session.commit()
        email = staff.email
        db.session.remove()
    photo = tmp_path / "after.jpg"
    Image.new("RGB", (800, 600), (40, 160, 90)).save(photo, "JPEG")
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server.base_url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, email)
        page.goto("/staff/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("#filter-box").get_attribute("open") is None
        assert page.locator(".queue-filters").is_hidden()
        screenshot("1-queue-phone", page)
        page.click(f"text={public_id}")
        page.wait_for_selector("#status-form")
        assert "How big is it?" in page.inner_text(".details")
        assert "Large" in page.inner_text(".details") and "size: large" not in page.content()
        screenshot("2-workbench-phone", page)
        assert_no_serious_axe_violations(page)
        page.evaluate("window.samePage = true")
        taps = 0

        def tap(selector):
            nonlocal taps
            taps += 1
            page.click(selector)

        tap("#status-form button[value=acknowledged]")
        flash_says(page, "Seen by the city")
        tap("#assign-form button[name=assign_me]")
        flash_says(page, "Assigned to Casey Crew")
        tap("#note-text")
        page.fill("#note-text", "Crew booked for Thursday morning.")
        tap("#note-form button[value=public]")
        flash_says(page, "Public note added")
        tap(".action-bar a[href='#close-form']")
        assert page.evaluate("document.activeElement.id") == "close-resolution"
        tap("#close-note")
        page.fill("#close-note", "Filled and sealed the hole.")
        # "Referred to" and "Duplicate of" show only for their own reason.
        assert not page.is_visible("#close-referred") and not page.is_visible("#close-duplicate")
        page.select_option("#close-resolution", "referred")
        assert page.is_visible("#close-referred") and not page.is_visible("#close-duplicate")
        page.select_option("#close-resolution", "duplicate")
        assert page.is_visible("#close-duplicate") and not page.is_visible("#close-referred")
        page.select_option("#close-resolution", "fixed")
        # The after photo is a big button, like the resident's photo step, naming the file.
        picker = page.locator("label[for=close-photo]").bounding_box()
        assert picker["height"] >= 44 and picker["width"] >= 200
        taps += 1
        page.set_input_files("#close-photo", str(photo))
        assert page.inner_text("#close-photo-name") == photo.name
        screenshot("3-closing-phone", page)
        tap("#close-form button[type=submit]")
        flash_says(page, "Request closed")
        screenshot("4-closed-phone", page)
        print(f"\nacknowledge → assign → public note → close with photo at phone size: {taps} taps")
        assert taps <= MAX_TAPS
        assert page.evaluate("window.samePage === true"), "a full page load happened"
        assert "Assigned to Casey Crew" in page.inner_text(".timeline")
        with live_app.app_context():
            request = requests_domain.get_by_public_id(public_id)
            assert request.is_closed and request.resolution == "fixed"
            assert request.assignee.display_name == "Casey Crew"
            assert [p.kind for p in request.photos] == ["closure"]
            notes = [e.note for e in request.events if e.kind == "public_note"]
            assert notes == ["Crew booked for Thursday morning."]
            db.session.remove()
        page.goto("/staff/")
        # The queue's order is in view (not folded with the filters): newest first.
        assert page.is_visible(".queue-order")
        assert page.inner_text(".queue-order [aria-current]") == "Due soonest"
        page.set_viewport_size(DESKTOP)
        page.goto("/staff/")
        screenshot("5-queue-desktop", page)
        page.goto(f"/staff/requests/{public_id}")
        screenshot("6-workbench-desktop", page)
        assert errors == []
    finally:
        context.close()


def test_workbench_actions_still_work_without_javascript(live_app, live_server, browser):
    with live_app.app_context():
        factories.gen_city()
        email = factories.gen_user("staff").email
        public_id = factories.gen_request("graffiti").public_id
        db.session.commit()
        db.session.remove()
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.base_url, java_script_enabled=False
    )
    page = context.new_page()
    try:
        sign_in(page, email)
        page.goto(f"/staff/requests/{public_id}")
        page.click("#status-form button[value=acknowledged]")
        flash_says(page, "Seen by the city")
        page.fill("#note-text", "Looking into it.")
        page.click("#note-form button[value=public]")
        flash_says(page, "Public note added")
        # Without JavaScript the close form still shows each reason's field for it alone.
        page.select_option("#close-resolution", "duplicate")
        assert page.is_visible("#close-duplicate") and not page.is_visible("#close-referred")
    finally:
        context.close()
