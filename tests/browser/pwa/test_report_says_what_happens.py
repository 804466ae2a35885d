"""The report flow tells the truth before Send, in English and Spanish at 390×844: the
connection state shows on every step when the phone goes offline (not only after Send),
the review says how the resident will hear back (by e-mail here, since this browser
cannot be notified), the thank-you card keeps the request number on one line, and My
requests names its two lists with agreeing words."""

from __future__ import annotations

import pytest

from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.pwa.conftest import stored_requests, wait_for

NO_PUSH = "delete window.PushManager;"
WORDS = {
    "en": {"offline": "You are offline", "review": "By e-mail to rosa@example.net",
           "open": "Open requests", "closed": "Closed requests"},
    "es": {"offline": "Está sin conexión", "review": "Por correo electrónico a rosa@example.net",
           "open": "Solicitudes abiertas", "closed": "Solicitudes cerradas"},
}
NUMBER_LINES = """() => {
  const number = document.querySelector('#report-done-message .request-number');
  return number ? new Set([...number.getClientRects()].map((r) => Math.round(r.top))).size : 0;
}"""


@pytest.mark.parametrize("locale", ["en", "es"])
def test_offline_state_review_wording_number_and_my_requests(
    live_app, page, flow, screenshot, locale
):
    words = WORDS[locale]
    page.context.add_init_script(NO_PUSH)
    flow.open()
    if locale == "es":
        page.click(".language-switch button[lang=es]")
        page.wait_for_function("document.documentElement.lang === 'es'")
        # The Spanish page shows its steps as one plain form until its script is ready;
        # the step counter, written by that script, says it is.
        page.wait_for_selector("#step-progress:has-text('Paso 1')")
    assert page.is_hidden("#connection-state")
    flow.photo()
    flow.category("graffiti")
    # Leaving the category step may wait on the server (its answers): slow on a busy machine.
    page.wait_for_selector("#step-location-title:visible", timeout=30_000)
    flow.tap("#use-location")
    page.wait_for_selector("#location-status:has-text('12')")  # "… about 12 m"
    flow.next()
    page.wait_for_selector("#description:visible")
    page.context.set_offline(True)
    page.wait_for_selector("#connection-state:visible")
    assert words["offline"] in page.inner_text("#connection-state")
    screenshot(f"{locale}-offline-before-send")
    page.context.set_offline(False)
    page.wait_for_selector("#connection-state", state="hidden")
    flow.description("Tag on the bus shelter")
    flow.contact(contact_email="rosa@example.net")
    page.wait_for_selector("#step-review-title:visible")
    review = page.inner_text("#review-summary")
    assert words["review"] in review
    assert_no_serious_axe_violations(page)
    flow.tap("#send-report")
    page.wait_for_selector("#report-done:visible")
    [stored] = wait_for(page, lambda: stored_requests(live_app))
    page.wait_for_selector(f"#report-done-message .request-number:has-text('{stored.public_id}')")
    assert page.evaluate(NUMBER_LINES) == 1
    screenshot(f"{locale}-thank-you")

    page.goto("/my")
    assert page.inner_text("#open-title") == words["open"]
    assert page.inner_text("#closed-title") == words["closed"]
