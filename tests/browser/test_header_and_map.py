"""The compact header and the map-first /map on a 390×844 phone, in English and Spanish:
one header row (at most 120 px) whose menu opens with a tap or the keyboard and reaches
every link; the map starts in the top 45 % of the screen and runs to its bottom, the
filters in a sheet. At 200 % zoom (a 195 px layout) the header shrinks to one short row
and every report step keeps its main action on screen."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.signing_in import sign_in
from tests.browser.test_touch_and_zoom import walk_report_steps, zoomed_page  # noqa: F401
from webapp.plumbing.extensions import db

HEADER_MAX_PX = 120
MENU_LINKS = """() => [...document.querySelectorAll('.site-menu nav a, .site-menu nav button')]
  .map((el) => ({text: el.textContent.trim(), href: el.getAttribute('href'),
                 shown: el.checkVisibility()}))"""


@pytest.fixture
def live_app(make_app, tile_server):
    app = make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png")
    with app.app_context():
        factories.gen_city()
        for _ in range(3):
            factories.gen_request("graffiti")
        factories.gen_user("staff", email="crew@city.gov")
        db.session.commit()
        db.session.remove()
    return app


def header_height(page) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


def open_menu_by_keyboard(page) -> None:
    """Tab from the top of the page to the menu button and open it with Enter."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.site-menu summary')"):
            break
    assert page.evaluate("document.activeElement.matches('.site-menu summary')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('.site-menu').open")


@pytest.mark.parametrize("locale", ["en", "es"])
def test_one_row_header_menu_and_map_first(live_app, page, screenshot, locale):
    page.goto("/")
    if locale == "es":
        page.click(".language-switch button[lang=es]")
        page.wait_for_function("document.documentElement.lang === 'es'")
    assert header_height(page) <= HEADER_MAX_PX
    # The links wait in the menu: hidden until it opens, then all there and working.
    links = page.evaluate(MENU_LINKS)
    assert links and not any(link["shown"] for link in links)
    open_menu_by_keyboard(page)
    links = page.evaluate(MENU_LINKS)
    assert all(link["shown"] for link in links if link["href"])
    hrefs = [link["href"] for link in links if link["href"]]
    assert len(hrefs) == 5  # Report, My requests, Map, Help, Sign in
    for href in hrefs:
        assert page.request.get(href).status == 200, href
    page.keyboard.press("Tab")  # the first link takes the focus next
    assert page.evaluate("document.activeElement.closest('.site-menu nav') !== null")
    screenshot(f"{locale}-menu-open")
    assert_no_serious_axe_violations(page)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")

    page.goto("/map")
    page.wait_for_selector("#public-map.leaflet-container")
    box = page.locator("#public-map").bounding_box()
    assert header_height(page) <= HEADER_MAX_PX
    assert box["y"] <= 0.45 * 844, f"the map starts {box['y']} px down"
    assert abs(box["y"] + box["height"] - 844) <= 16, "the map stops short of the screen"
    assert not page.is_visible("#map-status-filter")
    page.click("#map-filter-sheet summary")
    assert page.is_visible("#map-status-filter")
    sheet = page.locator(".map-sheet-body").bounding_box()
    assert sheet["y"] + sheet["height"] == pytest.approx(844, abs=1)  # a sheet from below
    screenshot(f"{locale}-map-filters")
    assert_no_serious_axe_violations(page)
    page.click("#map-sheet-done")
    assert not page.is_visible("#map-status-filter")


def test_staff_reach_queue_and_desk_from_the_menu(live_app, page):
    sign_in(page, "crew@city.gov")
    page.goto("/")
    assert header_height(page) <= HEADER_MAX_PX
    page.click(".site-menu summary")
    page.click(".site-menu nav a:has-text('Desk')")
    page.wait_for_url("**/staff/desk*")
    page.click(".site-menu summary")
    page.click(".site-menu nav a:has-text('Queue')")
    page.wait_for_url("**/staff/")
    page.click(".site-menu summary")
    assert page.is_visible(".site-menu nav button:has-text('Sign out')")


def test_at_200_percent_zoom_the_header_is_one_row_and_the_next_button_stays_on_screen(
    live_app, zoomed_page, artifacts_dir  # noqa: F811
):
    page = zoomed_page
    folder = artifacts_dir / "zoom-200"
    folder.mkdir(parents=True, exist_ok=True)
    cut_off = []

    def check(name):
        page.screenshot(path=str(folder / f"{name}.png"))
        assert header_height(page) <= 64
        action = page.locator("#step-next:visible, #send-report:visible").first
        box = action.bounding_box()
        if box["y"] < 0 or box["y"] + box["height"] > 422 + 0.5:
            cut_off.append(f"{name}: main action at {box['y']:.0f} px of 422")

    walk_report_steps(page, check)
    assert not cut_off, "\n".join(cut_off)
    # The language moved into the menu on this narrow screen, and still switches.
    page.goto("/")
    assert not page.is_visible(".site-header > .language-switch")
    page.click(".site-menu summary")
    page.click(".menu-language-switch button[lang=es]")
    page.wait_for_function("document.documentElement.lang === 'es'")
    assert header_height(page) <= 64
