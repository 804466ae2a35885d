"""An administrator changes an existing question of a service (not only removes it):
types are named in words, the "Required" checkbox sits beside its label, and residents
see the new wording and choices at once."""

from __future__ import annotations

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.signing_in import sign_in
from webapp.plumbing.extensions import db

DESKTOP = {"width": 1366, "height": 768}


def test_admin_edits_a_question_and_residents_see_it(live_app, live_server, browser, screenshot):
    with live_app.app_context():
        city = factories.gen_city()
        email = factories.gen_user("admin").email
        service_id = city["pothole"].id
        db.session.commit()
        db.session.remove()
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, email)
        page.goto(f"/admin/services/{service_id}")
        table = page.inner_text("table.admin-table")
        assert "Pick one from a list" in table and "singlevaluelist" not in table
        screenshot("1-service-questions", page)
        page.click("a:has-text('Edit size')")
        assert page.input_value("#description") == "How big is it?"
        assert "small=Small" in page.input_value("#values")
        box = page.locator("#required").bounding_box()
        label = page.locator("label[for=required]").bounding_box()
        assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 8
        assert label["x"] > box["x"]
        page.fill("#description", "About how wide is it?")
        page.fill(
            "#values",
            "small=Smaller than a plate\nlarge=Larger than a plate\nhuge=Wider than a car",
        )
        screenshot("2-editing-question", page)
        assert_no_serious_axe_violations(page)
        page.click("form.stack [type=submit]")
        page.wait_for_selector(".flashes:has-text('Question saved')")
        assert "About how wide is it?" in page.inner_text("table.admin-table")
        screenshot("3-question-saved", page)
        page.goto("/")
        page.wait_for_selector("#step-progress:has-text('Step 1')")
        options = page.locator("#attr-pothole-size option").all_inner_texts()
        assert options[1:] == ["Smaller than a plate", "Larger than a plate", "Wider than a car"]
        assert "About how wide is it?" in page.inner_text("label[for=attr-pothole-size]")
    finally:
        context.close()
