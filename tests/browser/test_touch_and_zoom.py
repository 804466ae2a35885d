"""Touch and zoom on resident and liaison pages: every interactive target at least
44×44 CSS px, and each resident page at 200 % zoom on a 390 px phone (a 195 px wide
layout) without sideways scrolling, its primary action in full view."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.axe import format_violations, serious_axe_violations
from tests.browser.pwa.conftest import answer_no_nearby, photo_file  # noqa: F401
from tests.browser.pwa.test_liaison_and_sync import sign_in
from tests.browser.targets import small_targets
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.models import Neighborhood
from webapp.plumbing.extensions import db
from webapp.seed.answers import seed_answers

CREATE = """async (key) => {
  const form = new FormData();
  form.append("service_code", "pothole");
  form.append("attribute[size]", "large");
  form.append("lat", "35.045");
  form.append("long", "-85.31");
  form.append("description", "Deep hole by the school");
  const response = await fetch("/api/v1/requests", {
    method: "POST", body: form,
    headers: {"X-Requested-With": "civic311", "Idempotency-Key": key},
  });
  return (await response.json()).data.id;
}"""
OVERFLOW = """() => {
  const root = document.documentElement;
  const primary = [...document.querySelectorAll("main .button-primary, main button[type=submit]")]
    .find((el) => el.checkVisibility());
  const box = primary ? primary.getBoundingClientRect() : null;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.checkVisibility() && el.getBoundingClientRect().right > root.clientWidth + 0.5)
    .slice(-3).map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`);
  return {
    wide,
    scroll: root.scrollWidth, width: root.clientWidth,
    primary: primary ? (primary.textContent || "").trim() : null,
    primaryRight: box ? box.right : 0,
  };
}"""
STEPS = ("photo", "category", "location", "description", "contact", "review")


@pytest.fixture
def world(live_app, tile_server):
    """A city, a liaison of the West Side, and (made later by the page) requests."""
    with live_app.app_context():
        factories.gen_city()
        west = db.session.scalar(select(Neighborhood).where(Neighborhood.name == "West Side"))
        liaison = factories.gen_user("liaison", neighborhood=west)
        seed_answers()  # "Before you report…" on the category step, /help and its topics
        # An open pothole by the GPS fix: the location step lists it ("follow it instead").
        factories.gen_request("pothole", lat=35.0453, long=-85.31)
        db.session.commit()
        email = liaison.email
        db.session.remove()
    return {"liaison": email}


@pytest.fixture
def live_app(make_app, tile_server):
    return make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png")


def made_here(page, app, *, close: bool) -> str:
    """A request made from this page's device; closed as fixed when ``close``."""
    public_id = page.evaluate(CREATE, str(uuid.uuid4()))
    if close:
        with app.app_context():
            staff = factories.gen_user("staff")
            request = requests_domain.get_by_public_id(public_id)
            workflow.transition(
                request, "closed", staff, note="Patched.", resolution="fixed"
            )
            db.session.commit()
            db.session.remove()
    return public_id


def walk_report_steps(page, visit, *, photo=None, nearby=False):
    """Open each step of the report flow and call ``visit(name)`` on it; with ``photo``
    the photo step holds one (its "Remove" button shows), with ``nearby`` the location
    step lists the requests already reported near the pin."""
    if not nearby:
        page.context.route("**/api/v1/requests/nearby*", answer_no_nearby)
    page.goto("/")
    page.wait_for_selector("#step-progress:has-text('Step 1')")
    for name in STEPS:
        page.wait_for_selector(f".step[data-step='{name}']:visible")
        if name == "photo" and photo:
            page.set_input_files("#photo-input", str(photo))
            page.wait_for_selector("#photo-previews img")
        if name == "category":
            page.check("#service-pothole")
            page.select_option("#attr-pothole-size", "large")
            if nearby:
                page.wait_for_selector("#report-answers-list details")
                page.click("#report-answers-list summary")
        if name == "location":
            page.click("#use-location")
            page.wait_for_selector("#location-status:has-text('accurate to about')")
            page.wait_for_selector("#report-map .leaflet-marker-icon")
            if nearby:
                page.wait_for_selector("#nearby-list li")
        visit(f"report-{name}")
        if name != "review":
            page.click("#step-next")


def resident_pages(page, app):
    """(name, url) of each resident page, with requests made from this phone."""
    page.goto("/")
    open_id = made_here(page, app, close=False)
    closed_id = made_here(page, app, close=True)
    with app.app_context():
        stranger = factories.gen_request("graffiti").public_id
        db.session.remove()
    return [
        ("my-requests", "/my"),
        ("status-own-open", f"/requests/{open_id}"),
        ("status-own-closed", f"/requests/{closed_id}"),
        ("status-stranger", f"/requests/{stranger}"),
        ("map", "/map"),
        ("help", "/help"),
        ("help-topic", "/help?topic=streets"),
        ("help-answer", "/help/how-potholes-are-repaired"),
        ("chat-start", "/chat"),
        ("stats", "/stats"),
        ("alerts", "/alerts"),
        ("find", "/find"),
        ("sign-in", "/auth/sign-in"),
        ("sign-up", "/auth/sign-up"),
        ("offline", "/offline"),
    ]


def test_every_interactive_target_is_at_least_44_px_and_axe_is_clean(
    world, live_app, page, screenshot, photo_file  # noqa: F811
):
    found: dict[str, list[str]] = {}
    axe: dict[str, str] = {}

    def measure(name):
        small = small_targets(page)
        if small:
            found[name] = small
        violations = serious_axe_violations(page)
        if violations:
            axe[name] = format_violations(violations)

    walk_report_steps(page, measure, photo=photo_file, nearby=True)
    page.click(".site-menu summary")  # the header's menu, open
    measure("header-menu")
    for name, url in resident_pages(page, live_app):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        measure(name)
    page.goto("/map")
    page.click("#map-filter-sheet summary")
    measure("map-filters")
    sign_in(page, world["liaison"])
    page.goto("/liaison/")
    page.wait_for_load_state("networkidle")
    measure("liaison-dashboard")
    page.goto("/")  # the liaison's report flow (it may open on the draft left above)
    page.wait_for_selector("#step-progress:has-text('Step')")
    measure("liaison-report")
    screenshot("liaison-dashboard")
    report = "\n".join(f"{name}: {', '.join(items)}" for name, items in found.items())
    assert not found, "targets smaller than 44×44 CSS px:\n" + report
    assert not axe, "\n".join(f"{name}: {text}" for name, text in axe.items())


@pytest.fixture
def zoomed_page(browser, live_server):
    """A 390 px phone at 200 % zoom: a 195 × 422 CSS px layout drawn at 4 device px each."""
    context = browser.new_context(
        viewport={"width": 195, "height": 422},
        device_scale_factor=4,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.base_url,
        service_workers="block",
        permissions=["geolocation"],
        geolocation={"latitude": 35.045, "longitude": -85.31},
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_each_resident_page_at_200_percent_zoom_needs_no_sideways_scrolling(
    world, live_app, zoomed_page, artifacts_dir, request
):
    page = zoomed_page
    folder = artifacts_dir / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    problems = []

    def check(name):
        page.wait_for_timeout(300)  # let a smooth scroll (to the questions) finish
        page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
        page.screenshot(path=str(folder / f"{name}.png"))
        found = page.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            problems.append(
                f"{name}: {found['scroll']} px wide in {found['width']} ({', '.join(found['wide'])})"
            )
        if found["primary"] and found["primaryRight"] > found["width"] + 0.5:
            problems.append(f"{name}: '{found['primary']}' cut off at {found['primaryRight']} px")

    walk_report_steps(page, check)
    for name, url in resident_pages(page, live_app):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        check(name)
    assert not problems, "\n".join(problems)


FOCUS_RING = """() => {
  const el = document.activeElement;
  const shown = el.matches(".photo-input") ? document.querySelector(`label[for="${el.id}"]`) : el;
  const style = getComputedStyle(shown);
  const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {name: `${el.tagName.toLowerCase()}#${el.id}`, ring: ring || style.boxShadow !== "none"};
}"""


def test_keyboard_focus_is_always_visible_on_the_first_step(world, page):
    page.goto("/")
    page.wait_for_selector("#step-progress:has-text('Step 1')")
    unseen, visited = [], []
    for _ in range(12):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_RING)
        if found["name"] == "body#":  # past the last control, the browser's own UI
            continue
        visited.append(found["name"])
        if not found["ring"]:
            unseen.append(found["name"])
    assert "input#photo-input" in visited
    assert unseen == [], f"focus not visible on {unseen}"
