"""Fixtures for the resident PWA's browser tests: a city, a fake tile server, test
photos made with Pillow, and helpers that walk the report flow like a resident."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests import factories
from webapp.models import ServiceRequest
from webapp.plumbing.extensions import db

READ_IDB = """async (store) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("civic311");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  if (!db.objectStoreNames.contains(store)) { db.close(); return []; }
  const rows = await new Promise((resolve, reject) => {
    const req = db.transaction(store).objectStore(store).getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  return rows.map((row) => Object.assign({}, row, {
    photos: (row.photos || []).map((p) => ({type: p.type, size: p.data.byteLength})),
  }));
}"""


@pytest.fixture
def live_app(make_app, tile_server):
    """The app pointed at the fake tiles, with the test city loaded."""
    app = make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png")
    with app.app_context():
        factories.gen_city()
        db.session.remove()
    return app


def make_jpeg(path: Path, size=(2400, 1200), orientation: int | None = None) -> Path:
    """A JPEG whose left half is red and right half blue; optional EXIF orientation."""
    image = Image.new("RGB", size, (20, 40, 220))
    image.paste((220, 30, 30), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    else:
        image.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def photo_file(tmp_path) -> Path:
    """A wide 2400×1200 photo (it must arrive no larger than 1600 px)."""
    return make_jpeg(tmp_path / "pothole.jpg")


def outbox_rows(page, store: str = "outbox") -> list[dict]:
    """The raw rows of an IndexedDB store, photos summarised as type and size."""
    return page.evaluate(READ_IDB, store)


def stored_requests(app) -> list[ServiceRequest]:
    """Every request on the server, with photos loaded."""
    with app.app_context():
        rows = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()
        for row in rows:
            list(row.photos)
            row.service.service_code  # noqa: B018 - load before the session closes
        db.session.expunge_all()
        db.session.remove()
        return rows


def wait_for(page, predicate, timeout: float = 20.0, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy; return its value or fail.

    Waits through ``page.wait_for_timeout`` so Playwright keeps serving route handlers.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(interval * 1000)
    raise AssertionError("condition not met in time")


def answer_no_nearby(route):
    """An empty nearby list in the API's envelope."""
    route.fulfill(status=200, content_type="application/json", body='{"data": [], "meta": {}}')


CURRENT_STEP = """() => {
  const step = [...document.querySelectorAll('#report-form .step')].find((s) => !s.hidden);
  return step ? step.dataset.step : null;
}"""


class ReportFlow:
    """Walks the report flow the way a resident does, taking a screenshot per step.

    Tests call the steps by name (``photo``, ``location``, ``category``…) in any order:
    a step asked for before the page reaches it waits and is played when its screen
    opens, so tests do not depend on the order the flow shows them in. ``taps`` counts
    the resident's taps and picks (typing a text field is not a tap)."""

    def __init__(self, page, screenshot):
        self.page = page
        self.shot = screenshot
        self.waiting: dict[str, object] = {}
        self.taps = 0
        self.photos: tuple = ()

    def tap(self, selector: str):
        """Click like a finger would, counted."""
        self.taps += 1
        self.page.click(selector)

    def current(self) -> str | None:
        return self.page.evaluate(CURRENT_STEP)

    def open(self):
        """Open the flow. Nearby search (another area's endpoint) answers "nothing near"
        unless the test routes it itself, so the flow is tested without it."""
        if not getattr(self.page, "_nearby_routed", False):
            self.page.context.route("**/api/v1/requests/nearby*", answer_no_nearby)
            self.page._nearby_routed = True
        self.page.goto("/")
        self.page.wait_for_selector("#step-progress:has-text('Step 1')")
        return self

    def next(self):
        before = self.page.locator("#step-progress").inner_text()
        self.tap("#step-next")
        self.page.wait_for_function(
            "(before) => document.getElementById('step-progress').textContent !== before"
            " || document.getElementById('report-done').checkVisibility()"
            " || document.querySelector('#report-form .error-message:not(:empty)')",
            arg=before,
        )

    def _play(self, name: str, action):
        """Run ``action`` on step ``name`` now, or when the flow reaches it."""
        self.waiting[name] = action
        while self.current() in self.waiting:
            step = self.current()
            self.waiting.pop(step)()

    def photo(self, *paths):
        def act():
            if paths:
                self.taps += 1
                self.page.set_input_files("#photo-input", [str(p) for p in paths])
                self.page.wait_for_function(
                    "n => document.querySelectorAll('#photo-previews img').length === n",
                    arg=len(paths),
                )
            self.shot("1-photo")
            self.next()

        self._play("photo", act)

    def location(self, *, gps=True, landmark=None, lat=None, long=None):
        def act():
            self.page.wait_for_selector("#step-location-title:visible")
            if gps:
                self.tap("#use-location")
                self.page.wait_for_selector("#location-status:has-text('accurate to about')")
            if landmark:
                self.page.fill("#landmark", landmark)
            if lat is not None:
                self.tap(".coordinates summary")
                self.page.fill("#lat", str(lat))
                self.page.fill("#long", str(long))
                self.page.dispatch_event("#long", "change")
            self.shot("2-location")
            self.next()

        self._play("location", act)

    def category(self, code="graffiti", answers=None):
        def act():
            self.page.wait_for_selector("#step-category-title:visible")
            self.taps += 1
            self.page.check(f"#service-{code}")
            for selector, value in (answers or {}).items():
                self.taps += 1
                self.page.select_option(selector, value)
            self.shot("3-category")
            self.next()

        self._play("category", act)

    def description(self, text="Big red tag on the wall"):
        def act():
            self.page.fill("#description", text)
            self.shot("4-description")
            self.next()

        self._play("description", act)

    def contact(self, **fields):
        def act():
            for name, value in fields.items():
                self.page.fill(f"#{name}", value)
            self.shot("5-contact")
            self.next()

        self._play("contact", act)

    def send(self):
        assert not self.waiting, f"steps never reached: {sorted(self.waiting)}"
        self.page.wait_for_selector("#step-review-title:visible")
        self.shot("6-review")
        self.tap("#send-report")
        self.page.wait_for_selector("#report-done:visible")

    def complete(self, *photos, **location):
        self.open()
        self.photo(*photos)
        self.category()
        self.location(**location)
        self.description()
        self.contact()
        self.send()
        return self


@pytest.fixture
def flow(page, screenshot):
    """A ``ReportFlow`` on the test page."""
    return ReportFlow(page, screenshot)
