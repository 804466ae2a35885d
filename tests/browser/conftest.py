"""Browser fixtures: one headless Debian Chromium per test session, a live app server
per test, phone-sized pages that record console errors, screenshots as artifacts."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.fakes import serve
from tests.fakes.tiles import FakeTileServer

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    """Everything under tests/browser is a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    """Debian's Chromium, or the one named by CHROMIUM_PATH."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit and Path(explicit).exists():
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def playwright_instance(request):
    """The Playwright driver (one per session)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail(request.config, "the playwright package is not installed")
    if chromium_path() is None:
        skip_or_fail(request.config, "Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    """One shared headless Chromium process for every browser test."""
    instance = playwright_instance.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    yield instance
    instance.close()


@pytest.fixture
def live_app(make_app):
    """A fresh app (SQLite file database) to serve to the browser."""
    return make_app()


@pytest.fixture
def live_server(live_app):
    """The app served on http://localhost:PORT in a thread (localhost is a secure context)."""
    running = serve(live_app)
    running.base_url = f"http://localhost:{running.port}"
    # Links in e-mail start with the public address: here, where the browser reaches it.
    if not live_app.config.get("PUBLIC_URL"):
        live_app.config["PUBLIC_URL"] = running.base_url
    yield running
    running.stop()


class ConsoleRecorder:
    """Collects console errors and uncaught page errors."""

    def __init__(self):
        self.errors: list[str] = []

    def attach(self, page):
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def browser_context(browser, live_server):
    """A phone-sized context with service workers, push, sync and a fixed GPS position."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        base_url=live_server.base_url, service_workers="allow",
        permissions=["notifications", "background-sync", "geolocation"],
        geolocation={"latitude": 35.045, "longitude": -85.31, "accuracy": 12},
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A page with a console recorder at ``page.console``."""
    new_page = browser_context.new_page()
    recorder = ConsoleRecorder()
    recorder.attach(new_page)
    new_page.console = recorder
    yield new_page


@pytest.fixture
def screenshot(page, artifacts_dir, request):
    """``screenshot("step-name")`` saves a PNG under test-artifacts/<test name>/."""
    folder = artifacts_dir / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None) -> Path:
        path = folder / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def tile_server():
    """A fake tile server on 127.0.0.1 (another origin than localhost) counting the tiles
    asked for; ``tile_server.fake.requested`` lists them."""
    fake = FakeTileServer()
    running = serve(fake)
    running.fake = fake
    yield running
    running.stop()


def registration_id(cdp, page, timeout: float = 10.0) -> str:
    """The page's service worker registration id, from CDP's registration updates
    (needed to dispatch push and sync events to the worker)."""
    found: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert found, "no service worker registration reported over CDP"
    return found[-1]
