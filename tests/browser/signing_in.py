"""Signing in from a browser test, the way a person does it: through the real form.

The page first waits until the service worker has saved the app shell (or 5 s where no
worker runs), so its background fetches are done before the sign-in. It then waits
until the form's answer has taken the page off the sign-in page: a navigation started
earlier than that would cancel the sign-in.
"""

from __future__ import annotations

from tests import factories
from tests.browser.worker import service_worker_ready


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Sign ``email`` in on ``page`` and wait until the signed-in page has loaded."""
    page.goto("/auth/sign-in")
    service_worker_ready(page, timeout_ms=5_000, required=False)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_url(lambda url: "/auth/sign-in" not in url)
    page.wait_for_load_state()
