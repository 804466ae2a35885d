"""The installable shell in real Chromium: install, offline, updates, accessibility."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.conftest import CHROMIUM_ARGS, PHONE, chromium_path
from tests.browser.worker import service_worker_ready
from webapp.plumbing.extensions import db
from webapp.resident import worker_views

CACHE_NAMES = "caches.keys()"


def wait_for_control(page) -> None:
    """Wait until the service worker is active and controls the page (clients.claim)."""
    service_worker_ready(page)
    page.wait_for_function("!!navigator.serviceWorker.controller")


def eventually(page, expression: str, arg=None, timeout: float = 10.0):
    """Evaluate ``expression`` (awaiting any promise) until it is truthy; return the value.

    ``page.wait_for_function`` takes a returned Promise itself as truthy, so cache
    lookups are polled here instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value or time.monotonic() > deadline:
            assert value, f"never true: {expression}"
            return value
        time.sleep(0.1)


SAVED_PAGE = "path => caches.open('civic311-pages-v1').then(c => c.match(path)).then(r => !!r)"


def served_version(app) -> str:
    """The shell version the server writes into /sw.js right now."""
    body = app.test_client().get("/sw.js").get_data(as_text=True)
    return re.search(r'"version":"([0-9a-f]+)"', body).group(1)


def gen_public_request(app) -> str:
    """A city and one request in it; returns the request's public id."""
    with app.app_context():
        factories.gen_city()
        public_id = factories.gen_request(
            "pothole", description="Deep hole by the bus stop"
        ).public_id
        db.session.remove()
    return public_id


@pytest.fixture
def persistent_page(playwright_instance, live_server, tmp_path):
    """A page in a persistent (non-incognito) profile, as installability needs."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=live_server.base_url,
        service_workers="allow",
        viewport=PHONE,
    )
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    context.close()


def test_app_is_installable_in_a_persistent_profile(persistent_page):
    persistent_page.goto("/")
    wait_for_control(persistent_page)
    cdp = persistent_page.context.new_cdp_session(persistent_page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_app_shell_opens_offline_and_unvisited_pages_show_the_offline_page(
    live_server, browser_context, page, screenshot
):
    page.goto("/")
    wait_for_control(page)
    browser_context.set_offline(True)

    page.reload()
    assert page.locator("h1").first.inner_text() == "Report a problem"
    page.goto("/my")
    assert page.locator("h1").first.inner_text() == "My requests"
    page.goto("/map")
    assert page.locator("h1").first.inner_text() == "You are offline"
    assert page.url.endswith("/map")
    screenshot("offline-page")
    assert page.console.errors == []


def test_visited_status_page_opens_offline_from_its_last_copy(
    live_app, live_server, browser_context, page
):
    public_id = gen_public_request(live_app)
    page.goto("/")
    wait_for_control(page)
    page.goto(f"/requests/{public_id}")
    assert public_id in page.locator("h1").inner_text()
    eventually(page, SAVED_PAGE, f"/requests/{public_id}")

    browser_context.set_offline(True)
    page.reload()
    assert public_id in page.locator("h1").inner_text()
    assert "Deep hole by the bus stop" in page.content()


def test_api_reads_are_answered_from_the_last_copy_offline(
    live_app, live_server, browser_context, page
):
    with live_app.app_context():
        factories.gen_city()
        db.session.remove()
    page.goto("/")
    wait_for_control(page)
    fetch_services = "fetch('/api/v1/services').then(r => r.json()).then(b => b.data.length)"
    online_count = page.evaluate(fetch_services)
    assert online_count > 0

    browser_context.set_offline(True)
    assert page.evaluate(fetch_services) == online_count
    refused = page.evaluate(
        "fetch('/api/v1/requests', {method: 'POST', headers: {'X-Requested-With': 'civic311'}})"
        ".then(() => 'answered', () => 'network error')"
    )
    assert refused == "network error"


def test_new_version_waits_until_the_resident_taps_reload(
    live_app, live_server, page, tmp_path, monkeypatch, screenshot
):
    page.goto("/")
    wait_for_control(page)
    old_version = served_version(live_app)
    assert f"civic311-shell-{old_version}" in page.evaluate(CACHE_NAMES)
    assert page.locator("#update-banner").is_hidden()

    changed = tmp_path / "service_worker"
    shutil.copytree(worker_views.WORKER_DIR, changed)
    with (changed / "shell.js").open("a") as script:
        script.write("\n/* a new release */\n")
    monkeypatch.setattr(worker_views, "WORKER_DIR", changed)
    new_version = served_version(live_app)
    assert new_version != old_version

    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.locator("#update-banner").wait_for(state="visible")
    assert "Update available" in page.locator("#update-banner").inner_text()
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")
    assert f"civic311-shell-{old_version}" in page.evaluate(CACHE_NAMES)
    screenshot("update-available")

    with page.expect_navigation():
        page.get_by_role("button", name="Reload").click()
    wait_for_control(page)
    names = page.evaluate(CACHE_NAMES)
    assert f"civic311-shell-{new_version}" in names
    assert f"civic311-shell-{old_version}" not in names
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.waiting)") is None
    assert page.locator("#update-banner").is_hidden()


def test_signing_out_forgets_saved_personal_pages(live_app, live_server, page):
    public_id = gen_public_request(live_app)
    with live_app.app_context():
        user = factories.gen_user("resident")
        db.session.commit()
        email = user.email
        db.session.remove()
    page.goto("/auth/sign-in")
    wait_for_control(page)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()
    page.goto(f"/requests/{public_id}")
    eventually(page, SAVED_PAGE, f"/requests/{public_id}")

    page.click(".site-menu summary")  # the header's links are in its menu on a phone
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    eventually(
        page, f"path => ({SAVED_PAGE})(path).then(found => !found)", f"/requests/{public_id}"
    )
    assert page.locator(".flash").first.inner_text() == "You are signed out."


@pytest.mark.parametrize("path", ["/", "/my", "status"])
def test_resident_pages_have_no_serious_accessibility_violations(live_app, live_server, page, path):
    if path == "status":
        path = f"/requests/{gen_public_request(live_app)}"
    page.goto(path)
    assert_no_serious_axe_violations(page)
