"""E-mail in real Chromium against a real SMTP server (aiosmtpd): an anonymous report
with an e-mail address → confirmation → staff close with a note and an after-photo →
closure mail with both → "No, it's not fixed" → confirm page → reopened and back in the
queue flagged; one-click unsubscribe; a second browser follows the sign-in link and
sees the request in My requests. And the notify step tells the truth about push."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests import factories
from tests.browser.pwa.conftest import stored_requests, wait_for
from tests.browser.signing_in import sign_in
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.email import addresses, email_channel
from webapp.models import User
from webapp.plumbing.extensions import db

NO_PUSH = "delete window.PushManager;"
PUSH_DENIED = "Object.defineProperty(Notification, 'permission', {get: () => 'denied'});"


@pytest.fixture
def live_app(make_app, tile_server, smtp_server):
    """The app with the test city, sending e-mail to the test SMTP server."""
    app = make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png", **smtp_server.settings())
    with app.app_context():
        factories.gen_city()
        factories.gen_user("staff", email="crew@city.gov")
        db.session.commit()
        db.session.remove()
    return app


def deliver(app) -> int:
    """Run the e-mail worker once, as the background thread would after commit."""
    with app.app_context():
        try:
            return email_channel.deliver_due()
        finally:
            db.session.remove()


def link(message, purpose: str) -> str:
    """The path of the /e/<purpose>/… link in a message's text part."""
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"https?://[^/\s]+(/e/{purpose}/[A-Za-z0-9_.\-]+)", text)
    assert found, f"no {purpose} link in:\n{text}"
    return found.group(1)


def test_email_from_report_to_not_fixed_reopen_unsubscribe_and_another_phone(
    live_app, live_server, browser, page, flow, photo_file, smtp_server, screenshot, tmp_path
):
    flow.open()
    flow.photo(photo_file)
    flow.location(gps=True)
    flow.category("pothole", answers={"#attr-pothole-size": "large"})
    flow.description("Deep pothole in the right lane")
    flow.contact(contact_email="rita@example.net")
    flow.send()
    [stored] = wait_for(page, lambda: stored_requests(live_app))
    public_id = stored.public_id

    assert deliver(live_app) == 1
    [confirmation] = smtp_server.wait_for(1)
    assert public_id in confirmation["Subject"]
    tracking = re.search(
        rf"http://localhost:\d+/requests/{public_id}",
        confirmation.get_body(("plain",)).get_content(),
    )
    assert tracking
    page.goto(tracking.group(0))
    page.wait_for_selector(f"h1:has-text('{public_id}')")

    after = tmp_path / "after.jpg"
    Image.new("RGB", (640, 480), (40, 160, 90)).save(after, "JPEG")
    staff_context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 900}
    )
    staff_page = staff_context.new_page()
    sign_in(staff_page, "crew@city.gov")
    staff_page.wait_for_url("**/staff/")
    staff_page.goto(f"/staff/requests/{public_id}")
    staff_page.select_option("#close-resolution", "fixed")
    staff_page.fill("#close-note", "Filled and sealed the hole this morning.")
    staff_page.set_input_files("#close-photo", str(after))
    staff_page.click("#close-form button[type=submit]")
    assert "Request closed" in staff_page.locator(".flashes").inner_text()

    assert deliver(live_app) == 1
    closure = smtp_server.wait_for(2)[1]
    assert "Fixed" in closure["Subject"]
    assert "Filled and sealed the hole this morning." in closure.get_body(("plain",)).get_content()
    html = closure.get_body(("html",)).get_content()
    assert 'src="cid:after-photo"' in html
    [photo] = [p for p in closure.walk() if p.get_content_type() == "image/jpeg"]
    assert photo["Content-ID"] == "<after-photo>" and len(photo.get_content()) > 1000
    staff_page.goto(f"/staff/requests/{public_id}")
    log = staff_page.locator(".delivery-log").inner_text()
    assert "E-mail (confirmation) delivered at" in log and "E-mail (closed) delivered at" in log
    screenshot("staff-delivery-log", staff_page)

    page.goto(link(closure, "not-fixed"))
    page.wait_for_selector("#email-reopen-form")
    screenshot("not-fixed-confirm-page")
    assert stored_requests(live_app)[0].status == "closed"  # opening the link changed nothing
    page.fill("#email-reopen-comment", "The hole opened up again after the rain.")
    page.click("#email-reopen-form button[type=submit]")
    page.wait_for_selector("h1:has-text('open again')")
    screenshot("reopened")
    assert stored_requests(live_app)[0].reopened

    staff_page.goto("/staff/?reopened=1")
    row = staff_page.locator("tr.is-reopened", has_text=public_id)
    assert row.count() == 1 and "Reopened" in row.inner_text()

    unsubscribe = urlsplit(closure["List-Unsubscribe"].strip().strip("<>")).path
    for _ in range(2):  # a mail program's RFC 8058 one-click POST, twice
        response = page.request.post(unsubscribe, form={"List-Unsubscribe": "One-Click"})
        assert response.status == 200
    with live_app.app_context():
        assert addresses.blocked_reason("rita@example.net", stored.id)
        db.session.remove()

    other = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 390, "height": 844}
    )
    other_page = other.new_page()
    other_page.goto("/my")
    assert public_id not in other_page.locator("main").inner_text()
    other_page.fill("#other-device-email", "rita@example.net")
    other_page.click("#other-device button[type=submit]")
    other_page.wait_for_selector(".flashes:has-text('sign-in link is on its way')")
    assert deliver(live_app) == 1
    sign_in_mail = smtp_server.wait_for(3)[2]
    other_page.goto(link(sign_in_mail, "sign-in"))
    other_page.click("main button[type=submit]")
    other_page.wait_for_url("**/my")
    assert public_id in other_page.locator(".request-list").inner_text()
    screenshot("other-phone-my-requests", other_page)

    assert page.console.errors == []
    other.close()
    staff_context.close()


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (NO_PUSH, "cannot show notifications"),
        (PUSH_DENIED, "blocked for this site"),
    ],
)
def test_notify_step_says_plainly_when_push_will_not_work_and_offers_email(
    browser_context, page, flow, script, words
):
    browser_context.add_init_script(script)
    flow.open()
    flow.photo()
    flow.location(gps=True)
    flow.category("graffiti")
    flow.description()
    page.fill("#contact_email", "rita@example.net")
    page.click("#notify")
    note = page.locator("#notify-status")
    wait_for(page, lambda: not page.is_checked("#notify"))
    wait_for(page, lambda: "e-mail the updates to rita@example.net" in note.inner_text())
    assert words in note.inner_text()


def test_status_page_offers_email_when_this_browser_has_no_push(
    live_app, browser_context, page, flow, smtp_server
):
    browser_context.add_init_script(NO_PUSH)
    flow.complete()
    [stored] = wait_for(page, lambda: stored_requests(live_app))
    page.goto(f"/requests/{stored.public_id}")
    status = page.locator("[data-push-status]")
    wait_for(page, lambda: "cannot show notifications" in status.inner_text())
    page.fill("#push-email-address", "late@example.net")
    page.click("[data-push-email] button[type=submit]")
    page.wait_for_selector(".flashes:has-text('late@example.net')")
    assert stored_requests(live_app)[0].contact_email == "late@example.net"
    page.wait_for_load_state("networkidle")


def test_email_pages_have_no_serious_accessibility_problems(live_app, page, smtp_server):
    from tests.browser.axe import assert_no_serious_axe_violations

    with live_app.app_context():
        request = factories.gen_request("pothole", contact_email="rita@example.net")
        staff = db.session.scalars(db.select(User).where(User.role == "staff")).first()
        requests_domain.transition(request, "closed", staff, note="Done", resolution="fixed")
        db.session.commit()
        db.session.remove()
    assert deliver(live_app) == 2
    closure = smtp_server.wait_for(2)[1]
    for path in (
        link(closure, "not-fixed"),
        link(closure, "fixed"),
        "/alerts",
        "/my",
        "/e/fixed/x",
    ):
        page.goto(path)
        assert_no_serious_axe_violations(page)
