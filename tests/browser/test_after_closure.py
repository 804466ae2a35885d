"""After closure at phone size: "Is it fixed?" answered with two equal buttons near the
top of the status page, "Not fixed" opening the reopen form in place, a rating whose
choices are big enough to tap."""

from __future__ import annotations

import uuid

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import workflow
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
BOX = "(el) => { const b = el.getBoundingClientRect(); return {top: b.top, width: b.width, height: b.height}; }"


def closed_request(page, app) -> str:
    """A request made from this phone and closed as fixed by the city."""
    public_id = page.evaluate(CREATE, str(uuid.uuid4()))
    with app.app_context():
        staff = factories.gen_user("staff")
        request = requests_domain.get_by_public_id(public_id)
        workflow.transition(
            request, "closed", staff, note="Painted over this morning.", resolution="fixed"
        )
        db.session.commit()
        db.session.remove()
    return public_id


def test_fixed_and_not_fixed_are_two_equal_buttons_near_the_top(
    live_app, live_server, page, screenshot
):
    with live_app.app_context():
        factories.gen_city()
        db.session.remove()
    page.goto("/")
    first, second = closed_request(page, live_app), closed_request(page, live_app)

    page.goto(f"/requests/{first}")
    fixed = page.locator(".verdict-row button:text-is('Fixed')")
    not_fixed = page.locator(".verdict-row a:text-is('Not fixed')")
    fixed_box, not_fixed_box = fixed.evaluate(BOX), not_fixed.evaluate(BOX)
    assert fixed_box["top"] + fixed_box["height"] < 844 / 2 + 200, "answer near the top"
    assert abs(fixed_box["width"] - not_fixed_box["width"]) < 2
    assert fixed_box["top"] == not_fixed_box["top"] and fixed_box["height"] >= 44
    for label in page.locator(".rating-row label").all():
        box = label.evaluate(BOX)
        assert box["width"] >= 44 and box["height"] >= 44
    assert not page.locator("#reopen-form").is_visible()
    screenshot("1-closed")
    assert_no_serious_axe_violations(page)
    page.locator(".rating-row label[for='rating-4']").click()
    fixed.click()
    page.wait_for_selector("text=You confirmed that this is fixed")
    screenshot("2-confirmed")

    page.goto(f"/requests/{second}")
    page.evaluate("window.samePage = true")
    not_fixed.click()
    page.wait_for_selector("#reopen-form:visible")
    assert page.evaluate("window.samePage === true"), "the form opens without a reload"
    assert page.evaluate("document.activeElement.id") == "reopen-comment"
    assert not_fixed.get_attribute("aria-expanded") == "true"
    screenshot("3-not-fixed")
    page.fill("#reopen-comment", "The tag is back.")
    page.click("#reopen-form button[type=submit]")
    assert "open again" in page.locator(".flashes").inner_text()
    assert page.console.errors == []
