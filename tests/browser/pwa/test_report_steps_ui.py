"""Each report step at phone size: one primary action, only the buttons that apply,
nothing covering them, and no serious accessibility violation (axe-core)."""

import io

from PIL import Image

from tests.browser.axe import assert_no_serious_axe_violations

# From the top of the page the sticky navigation sits over whatever is below it (the map):
# the button's own background colour must be what is painted just inside its edge.
BUTTON_PAINT = """(id) => {
  window.scrollTo(0, 0);
  const element = document.getElementById(id);
  const box = element.getBoundingClientRect();
  const rgb = getComputedStyle(element).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number);
  return {x: box.left + 8, y: box.top + box.height / 2, rgb};
}"""


def painted_on_top(page, button: str) -> bool:
    """Whether the button is drawn uncovered (its background colour shows at its edge)."""
    spot = page.evaluate(BUTTON_PAINT, button)
    shot = page.screenshot(clip={"x": spot["x"], "y": spot["y"], "width": 1, "height": 1})
    with Image.open(io.BytesIO(shot)) as image:
        pixel = image.convert("RGB").getpixel((0, 0))
    return all(abs(a - b) <= 10 for a, b in zip(pixel, spot["rgb"], strict=True))


def visible_ids(page, selector: str) -> list[str]:
    """The ids of the elements matching ``selector`` that a resident can see."""
    return page.eval_on_selector_all(
        selector, "els => els.filter(e => e.checkVisibility()).map(e => e.id || e.textContent)"
    )


def check_step(page, nav: list[str]):
    """The step shows exactly the navigation buttons ``nav``, one primary, on top; axe passes."""
    assert visible_ids(page, ".step-nav .button") == nav
    assert len(visible_ids(page, "#report-form .button-primary")) == 1
    for button in nav:
        assert painted_on_top(page, button), f"{button} is covered by something"
    assert_no_serious_axe_violations(page)


def test_every_step_offers_one_primary_action_and_passes_axe(page, flow, photo_file):
    flow.open()
    check_step(page, ["step-next"])
    flow.photo(photo_file)
    page.wait_for_selector("#step-category-title:visible")
    page.fill("#service-search", "pothole")
    assert visible_ids(page, ".service-choice label") == ["Pothole"]
    page.fill("#service-search", "")
    page.check("#service-pothole")
    page.select_option("#attr-pothole-size", "small")
    check_step(page, ["step-back", "step-next"])
    flow.next()
    page.wait_for_selector("#step-location-title:visible")
    page.click("#use-location")
    page.wait_for_selector("#report-map .leaflet-marker-icon")
    page.wait_for_selector("#location-status:has-text('accurate to about')")
    check_step(page, ["step-back", "step-next"])
    flow.next()
    check_step(page, ["step-back", "step-next"])
    flow.next()
    check_step(page, ["step-back", "step-next"])
    flow.next()
    page.wait_for_selector("#step-review-title:visible")
    assert page.locator("#review-summary .review-photos img").count() == 1
    assert page.locator("#review-summary .change-link").count() >= 5
    check_step(page, ["step-back", "send-report"])
    page.click("#send-report")
    page.wait_for_selector("#report-done:visible")
    page.wait_for_selector("#outbox-summary:has-text('All your reports have been sent')")
    assert not page.locator("#outbox-send-now").is_visible()
    assert_no_serious_axe_violations(page)
    assert page.console.errors == []
