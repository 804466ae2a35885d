"""Admin translations, one item at a time: fields named in words, the English beside the
Spanish on a desktop and above it on a phone (390×844), a "missing only" filter, and
"Save and next" walking the list; axe clean at both sizes."""

from __future__ import annotations

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.signing_in import sign_in
from webapp.models import Service
from webapp.plumbing.extensions import db

DESKTOP = {"width": 1366, "height": 900}
LAYOUT = """() => {
  const english = document.querySelector('.translation-source').getBoundingClientRect();
  const input = document.querySelector('.translation-mine input, .translation-mine textarea')
    .getBoundingClientRect();
  return {englishRight: english.right, englishBottom: english.bottom, englishTop: english.top,
          inputLeft: input.left, inputTop: input.top,
          height: document.documentElement.scrollHeight,
          width: document.documentElement.scrollWidth};
}"""


def test_translate_one_item_at_a_time_side_by_side_or_stacked(live_app, page, screenshot):
    with live_app.app_context():
        city = factories.gen_city()
        email = factories.gen_user("admin").email
        pothole_id = city["pothole"].id
        db.session.commit()
        db.session.remove()
    sign_in(page, email)
    page.goto("/admin/translations?locale=es")
    page.click("a:has-text('Missing only')")
    page.wait_for_url("**missing=1*")
    assert page.locator(".translation-items li").count() > 1
    page.click(f"a[href*='item=service-{pothole_id}']")
    page.wait_for_selector(".translation-field")
    labels = page.locator(".translation-mine label").all_inner_texts()
    assert any(label.startswith("Name") for label in labels)
    assert not any(label.split(" ")[0] in ("name", "description", "group") for label in labels)
    phone = page.evaluate(LAYOUT)
    assert phone["inputTop"] >= phone["englishBottom"]  # stacked on the phone
    assert phone["width"] <= 390 and phone["height"] < 2500
    screenshot("translation-item-phone")
    assert_no_serious_axe_violations(page)

    page.set_viewport_size(DESKTOP)
    desk = page.evaluate(LAYOUT)
    assert desk["inputLeft"] >= desk["englishRight"]  # side by side on a desktop
    assert abs(desk["inputTop"] - desk["englishTop"]) < 40
    screenshot("translation-item-desktop")
    assert_no_serious_axe_violations(page)
    page.fill(f"#t-service-{pothole_id}-name", "Bache")
    page.click("button:has-text('Save and next')")
    page.wait_for_selector(".flash:has-text('Translations saved.')")
    assert f"item=service-{pothole_id}" not in page.url
    with live_app.app_context():
        assert db.session.get(Service, pothole_id).translations["es"]["name"] == "Bache"
        db.session.remove()
