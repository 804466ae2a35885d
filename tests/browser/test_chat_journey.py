"""Live chat in two real browsers: a resident on a phone (390×844) and a call-taker.

The resident opens the chat from /help and writes; the call-taker takes it at the
desk, answers with a knowledge answer (one key puts it in, Enter sends it), and turns
the chat into a pothole request with the desk's own form; the resident sees the
request's number arrive in the chat, reloads mid-chat and keeps everything, and the
transcript is on their record. Streams are short here (a few seconds), so the browser's
EventSource reconnects from its last line during the test, as it does in production.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.axe import format_violations, serious_axe_violations
from tests.browser.conftest import PHONE
from tests.browser.signing_in import sign_in
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from webapp.domain.geo import geocoding
from webapp.domain.intake import answers
from webapp.models import Contact, ServiceRequest
from webapp.plumbing.extensions import db

RESIDENT_EMAIL = "ana@example.org"


@pytest.fixture
def nominatim():
    """A fake Nominatim on 127.0.0.1."""
    geocoding.reset()
    running = serve(FakeNominatim())
    yield running
    running.stop()
    geocoding.reset()


@pytest.fixture
def live_app(make_app, tile_server, nominatim):
    """The test city, a knowledge answer about potholes and a call-taker."""
    app = make_app(
        TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png",
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
        CHAT_STREAM_SECONDS=3.0,
        CHAT_POLL_SECONDS=0.2,
        CHAT_QUEUE_SECONDS=0.5,
    )
    with app.app_context():
        factories.gen_city()
        answers.save(
            title="Pothole repairs",
            summary="Crews fill reported potholes within 3 working days.",
            body="Crews fill reported potholes within **3 working days**.",
            keywords="pothole hole road",
        )
        factories.gen_user("staff", email="desk@example.com")
        db.session.commit()
        db.session.remove()
    return app


def _chat_contacts(app):
    with app.app_context():
        found = [
            (c.channel, c.kind, c.request.public_id if c.request else None, c.note)
            for c in db.session.scalars(select(Contact))
        ]
        numbers = list(db.session.scalars(select(ServiceRequest.public_id)))
        db.session.remove()
        return found, numbers


def test_a_resident_and_a_call_taker_chat_and_the_chat_becomes_a_request(
    live_app, browser, live_server, artifacts_dir
):
    folder = artifacts_dir / "chat-journey"
    folder.mkdir(exist_ok=True)
    resident_context = browser.new_context(
        base_url=live_server.base_url, viewport=PHONE, device_scale_factor=2,
        is_mobile=True, has_touch=True, locale="en-US",
    )
    desk_context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1366, "height": 900}
    )
    for context in (resident_context, desk_context):
        context.set_default_timeout(15_000)
    resident, desk = resident_context.new_page(), desk_context.new_page()
    errors: list[str] = []
    for page in (resident, desk):
        page.on("pageerror", lambda e: errors.append(str(e)))

    # The call-taker is at the desk before anyone writes.
    sign_in(desk, "desk@example.com")
    desk.goto("/staff/desk")
    assert "No chat is waiting" in desk.locator("#chat-queue").inner_text()

    # The resident opens the chat from /help and writes.
    resident.goto("/help")
    resident.click("#help-chat")
    resident.fill("#chat-name", "Ana Rivera")
    resident.fill("#chat-email", RESIDENT_EMAIL)
    resident.fill("#chat-body", "There is a deep pothole outside 101 East 11th St 🕳️")
    resident.click("main button[type=submit]")
    resident.wait_for_selector("#chat-lines[data-live='1']")
    assert "Waiting for a call-taker" in resident.locator("#chat-state").inner_text()
    assert resident.locator("#chat-lines").get_attribute("aria-live") == "polite"
    resident.screenshot(path=str(folder / "resident-waiting.png"), full_page=True)

    # The chat joins the open desk's list by itself, announced, with its Take button;
    # the call-taker takes it by keyboard: the resident's record is beside the chat.
    take = desk.locator("#chat-queue button:has-text('Take')")
    take.wait_for()
    news = desk.locator("#chat-queue-news")
    assert news.is_visible()
    assert news.inner_text() == "New chats waiting: 1. Take one from the list above."
    assert "No chat is waiting" not in desk.locator("#chat-queue").inner_text()
    desk.screenshot(path=str(folder / "desk-new-chat.png"))
    assert "Ana Rivera" in desk.locator("#chat-queue").inner_text()
    take.focus()
    desk.keyboard.press("Enter")
    desk.wait_for_selector("#desk-chat #chat-lines[data-live='1']")
    assert "deep pothole" in desk.locator("#desk-chat").inner_text()
    assert desk.locator("#caller-record").count() == 1
    assert desk.input_value("#caller-email") == RESIDENT_EMAIL
    assert "deep pothole" in desk.input_value("#desk-description")
    resident.wait_for_selector("#chat-lines:has-text('A call-taker has joined')")
    assert serious_axe_violations(desk) == [], format_violations(serious_axe_violations(desk))

    # A knowledge answer with one key: search, "1" puts the first one in, Enter sends it.
    desk.keyboard.press("Alt+a")
    desk.keyboard.type("pothole")
    desk.keyboard.press("Enter")
    desk.wait_for_selector("#desk-chat #chat-lines[data-live='1']")
    desk.wait_for_selector("[data-insert-answer='1']:focus")
    desk.keyboard.press("1")
    assert desk.evaluate("document.activeElement.id") == "chat-reply"
    assert "3 working days" in desk.input_value("#chat-reply")
    desk.keyboard.press("Enter")
    resident.wait_for_selector("#chat-lines .chat-staff:has-text('3 working days')")
    assert "/help/pothole-repairs" in resident.locator("#chat-lines .chat-staff").inner_text()

    # The resident answers; a reload mid-chat keeps every line.
    resident.fill("#chat-body", "Thanks! It is in the right lane.")
    resident.keyboard.press("Enter")
    desk.wait_for_selector("#desk-chat .chat-resident:has-text('right lane')")
    before = resident.locator("#chat-lines li").all_inner_texts()
    resident.reload()
    resident.wait_for_selector("#chat-lines[data-live='1']")
    assert resident.locator("#chat-lines li").all_inner_texts() == before

    # The call-taker turns the chat into a request with the desk's own form.
    desk.keyboard.press("Alt+n")
    desk.keyboard.type("Pot")
    assert desk.input_value("#desk-service") == "pothole"
    desk.keyboard.press("Tab")
    desk.keyboard.type("l")
    desk.focus("#desk-address")
    desk.keyboard.type("101 East 11th")
    desk.keyboard.press("Enter")
    desk.wait_for_selector("#desk-description:focus")
    desk.focus("#desk-submit")
    desk.keyboard.press("Enter")
    desk.wait_for_selector(".flashes:has-text('Logged')")
    contacts, numbers = _chat_contacts(live_app)
    assert len(numbers) == 1
    number = numbers[0]

    # The resident sees the number arrive, and it survives another reload.
    resident.wait_for_selector(f"#chat-request:has-text('{number}')")
    assert number in resident.locator("#chat-lines").inner_text()
    resident.screenshot(path=str(folder / "resident-request-number.png"), full_page=True)
    assert serious_axe_violations(resident) == [], format_violations(
        serious_axe_violations(resident)
    )
    resident.reload()
    resident.wait_for_selector("#chat-lines[data-live='1']")
    assert number in resident.locator("#chat-request").inner_text()

    # The transcript is the request's contact (channel chat) on the resident's record.
    assert [(c[0], c[1], c[2]) for c in contacts] == [("chat", "request", number)]
    assert "right lane" in contacts[0][3] and "3 working days" in contacts[0][3]
    desk.goto(f"/staff/desk?q={RESIDENT_EMAIL}")
    assert number in desk.locator("#caller-record").inner_text()
    assert "a live chat" in desk.locator("#caller-record").inner_text()

    # 200 % zoom on the phone: the chat still fits the width, its button keeps 44 px.
    resident.set_viewport_size({"width": PHONE["width"] // 2, "height": PHONE["height"] // 2})
    assert resident.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )
    assert resident.locator("#chat-send").bounding_box()["height"] >= 44
    assert errors == []
    resident_context.close()
    desk_context.close()
