"""The call-taker desk, keyboard only: lookup → the caller's record → a new phone request
for a pothole → confirmation; then an information-only call. Key presses beyond the
typed text are counted (target: at most 25 for the pothole call); the time is printed."""

import time

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.axe import format_violations, serious_axe_violations
from tests.browser.signing_in import sign_in
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from webapp.domain.geo import geocoding
from webapp.domain.intake import answers
from webapp.models import Contact, ServiceRequest
from webapp.plumbing.extensions import db

PHONE = "423-555-0177"
MAX_KEYS = 25


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
    """The test city, a caller with history, an answer and a staff account."""
    app = make_app(
        TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png",
        GEOCODER_DOMAIN=f"127.0.0.1:{nominatim.port}",
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY=0,
    )
    with app.app_context():
        factories.gen_city()
        factories.gen_request(
            "streetlight", contact_phone=PHONE, contact_name="Kim Caller", lat=35.06, long=-85.33
        )
        factories.gen_request("pothole", lat=35.0457, long=-85.3098)  # already reported nearby
        answers.save(title="Bulky item pickup", body="Book a **free** pickup.", keywords="sofa")
        factories.gen_user("staff", email="desk@example.com")
        db.session.commit()
        db.session.remove()
    return app


class Keys:
    """The keyboard, counting every key press that is not typed text."""

    def __init__(self, page):
        self.page = page
        self.presses = 0

    def press(self, key: str, times: int = 1):
        for _ in range(times):
            self.page.keyboard.press(key)
            self.presses += 1

    def type(self, text: str):
        self.page.keyboard.type(text)


def _stored(app, model):
    with app.app_context():
        rows = db.session.scalars(select(model)).all()
        found = [
            (
                getattr(r, "public_id", None),
                r.channel,
                getattr(r, "kind", None),
                getattr(r, "contact_phone", None) or getattr(r, "caller_phone", None),
            )
            for r in rows
        ]
        db.session.remove()
        return found


def test_a_pothole_call_by_keyboard_only(live_app, browser, live_server, screenshot):
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "desk@example.com")
    page.goto("/staff/desk")
    keys = Keys(page)

    started = time.monotonic()
    keys.type(PHONE)  # the lookup has the focus
    keys.press("Enter")
    page.wait_for_selector("#caller-record")
    assert "Streetlight out" in page.locator("#caller-record").inner_text()
    keys.type("Pot")  # the problem list has the focus: typing picks "Pothole"
    assert page.evaluate("document.activeElement.id") == "desk-service"
    assert page.input_value("#desk-service") == "pothole"
    keys.press("Tab")
    keys.type("l")  # How big is it? → Large
    assert page.input_value("#desk-attr-pothole-size") == "large"
    keys.press("Tab", 2)  # past the optional lane question, to the address
    keys.type("101 East 11th")
    keys.press("Enter")  # search, take the first place, move on
    page.wait_for_selector("#desk-description:focus")
    page.wait_for_selector("#desk-nearby:visible")  # the duplicate is offered, focus stays put
    assert "as a supporter" in page.locator("#desk-nearby").inner_text()
    keys.type("Deep hole in the right lane, caller nearly lost a tire")
    keys.press("Tab", 5)  # name, phone (kept), e-mail, caller's address, channel
    assert page.evaluate("document.activeElement.id") == "desk-channel"
    keys.press("Tab", 2)  # confirmation box, then the button
    keys.press("Enter")
    page.wait_for_selector(".flashes:has-text('Logged')")
    elapsed = time.monotonic() - started
    screenshot("desk-after-the-call", page)

    assert serious_axe_violations(page) == [], format_violations(serious_axe_violations(page))
    requests = [r for r in _stored(live_app, ServiceRequest) if r[1] == "phone"]
    assert len(requests) == 1 and requests[0][3] == PHONE
    flash = page.locator(".flashes").inner_text()
    assert requests[0][0] in flash
    assert requests[0][0] in page.locator("#caller-record").inner_text()  # on the record now
    print(f"\npothole call: {keys.presses} key presses beyond typed text, {elapsed:.1f} s")
    assert keys.presses <= MAX_KEYS

    # An information-only call: the answer is read out, the call is logged as a contact.
    info = Keys(page)
    page.focus("#desk-lookup")  # focus is already here after the reload (autofocus)
    info.press("Alt+a")  # shortcut: answer search
    assert page.evaluate("document.activeElement.id") == "desk-answer-q"
    info.type("sofa")
    info.press("Enter")
    page.wait_for_selector(".desk-answer[open] strong:has-text('free')")
    info.press("Tab", 3)  # search button, the answer's title, its "log the call" button
    assert "log the call" in page.evaluate("document.activeElement.textContent")
    info.press("Enter")
    page.wait_for_selector(".flashes:has-text('Information call logged')")
    contacts = _stored(live_app, Contact)
    assert ("information" in {c[2] for c in contacts}) and len(
        [c for c in contacts if c[2] == "information" and c[3] == PHONE]
    ) == 1
    print(f"information call: {info.presses} key presses beyond typed text")
    assert errors == []
    context.close()
