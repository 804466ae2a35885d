"""The first thing a resident sees, in real Chromium at phone size."""

from tests import factories
from tests.browser.worker import service_worker_ready
from webapp.plumbing.extensions import db


def test_home_page_loads_at_phone_size_without_console_errors(live_app, live_server, page,
                                                                screenshot):
    with live_app.app_context():
        factories.gen_city()
        db.session.remove()
    response = page.goto("/")
    assert response.status == 200
    assert page.locator("h1").first.inner_text()
    assert page.viewport_size == {"width": 390, "height": 844}
    shot = screenshot("home")
    assert shot.stat().st_size > 1000
    assert page.console.errors == []


def test_service_worker_takes_control_of_the_page(live_app, live_server, page):
    page.goto("/")
    service_worker_ready(page)
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server.base_url + "/"
