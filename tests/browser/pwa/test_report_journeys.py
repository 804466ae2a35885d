"""Whole journeys of the report flow at phone size, counted in taps: a resident's
pothole with a photo and its questions, and a liaison whose map opens on their own
neighborhood."""

from sqlalchemy import select

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.pwa.conftest import stored_requests, wait_for
from tests.browser.signing_in import sign_in
from webapp.models import Neighborhood
from webapp.plumbing.extensions import db

MAX_POTHOLE_TAPS = 12
IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const nav = document.querySelector('.step-nav').getBoundingClientRect();
  return box.top >= 0 && box.bottom <= nav.top;
}"""


def test_anonymous_pothole_with_photo_and_questions_takes_at_most_twelve_taps(
    live_app, page, flow, photo_file, screenshot
):
    flow.open()
    flow.photo(photo_file)
    page.wait_for_selector("#step-category-title:visible")
    flow.taps += 1
    page.check("#service-pothole")
    questions = page.locator(".attribute-questions[data-service='pothole']")
    questions.wait_for(state="visible")
    # Right under the chosen category; its "Before you report…" answers, when it has
    # some, come first, between the two.
    follows_choice = questions.evaluate(
        """q => {
          let above = q.previousElementSibling;
          if (above && above.id === "report-answers") above = above.previousElementSibling;
          return above !== null && above.querySelector('#service-pothole') !== null;
        }"""
    )
    assert follows_choice, "the questions sit right under the chosen category"
    wait_for(page, lambda: page.evaluate(IN_VIEW, "#attr-pothole-size"))
    screenshot("3-category-questions")
    assert_no_serious_axe_violations(page)
    flow.taps += 1
    page.select_option("#attr-pothole-size", "large")
    flow.next()
    flow.location(gps=True)
    assert page.get_attribute("#report-map", "data-pin-placed") == "1"
    assert page.eval_on_selector("#report-map .map-pin", "pin => pin.style.opacity") == "1"
    flow.description("Deep, in the right lane")
    flow.contact()
    flow.send()
    stored = wait_for(page, lambda: stored_requests(live_app))
    print(f"\nanonymous pothole report with a photo and its questions: {flow.taps} taps")
    assert flow.taps <= MAX_POTHOLE_TAPS
    request = stored[0]
    assert request.service.service_code == "pothole"
    assert request.attribute_values == {"size": "large"}
    assert len(request.photos) == 1
    assert page.console.errors == []


def test_liaison_map_opens_on_their_neighborhood_and_the_start_is_not_a_pin(
    live_app, page, flow, screenshot
):
    with live_app.app_context():
        west = db.session.scalar(select(Neighborhood).where(Neighborhood.name == "West Side"))
        email = factories.gen_user("liaison", neighborhood=west).email
        db.session.commit()
        db.session.remove()
    sign_in(page, email)
    flow.open()
    flow.photo()
    flow.category("streetlight")
    page.wait_for_selector("#report-map .leaflet-marker-icon")
    map_element = page.locator("#report-map")
    assert float(map_element.get_attribute("data-pin-lat")) == 35.05
    assert float(map_element.get_attribute("data-pin-long")) == -85.325
    assert map_element.get_attribute("data-pin-placed") == "0"
    flow.next()
    assert "Please use your location" in page.inner_text("#location-message")
    page.wait_for_selector("#step-location-title:visible")
    screenshot("2-liaison-location")
    page.click("#report-map", position={"x": 120, "y": 80})
    wait_for(page, lambda: map_element.get_attribute("data-pin-placed") == "1")
    assert page.locator("#lat").input_value() != ""
    assert page.console.errors == []


def test_offline_the_waiting_report_reads_as_sentences_and_send_now_is_not_offered(
    live_app, browser_context, page, flow, screenshot
):
    flow.open()
    flow.photo()
    flow.category()
    flow.location(gps=True)
    flow.description()
    flow.contact()
    browser_context.set_offline(True)
    flow.send()
    page.wait_for_selector("#outbox-summary:has-text('waiting to send')")
    summary = page.inner_text("#outbox-summary")
    assert summary.startswith("1 report waiting to send. You are offline.")
    assert not page.locator("#outbox-send-now").is_visible()
    assert "Saved on this phone" in page.inner_text("#report-done-message")
    screenshot("7-offline-waiting")
    browser_context.set_offline(False)
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
