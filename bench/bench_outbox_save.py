"""Saving a report into the phone's outbox, with 0, 250 and 600 reports already waiting.

Starts the app on a throwaway SQLite database with the demo city, opens ``/`` (the
report flow, whose "On this phone" panel is live) in headless Chromium, and goes
offline so that nothing is sent. A second page of the same origin fills the outbox
with reports that each carry one photo. Then the report page saves N reports through
the app's own ``saveReport`` (IndexedDB write, Background Sync request, flush attempt,
panel redraw, retry timer) and the time per save is printed.

The baseline, in the same run and on the same outbox, is the panel as first shipped:
its status line and retry timer re-read every waiting report, photos included, from
IndexedDB on every change (the bench swaps ``Civic311Outbox.summary`` for that full
read and listing). Target: the time per save does not grow with the outbox.

Usage: ``.venv/bin/python bench/bench_outbox_save.py [--quick] [--saves N] [--photo-kb K]``
(default: 0/250/600 waiting, 10 saves per figure, 200 kB photos; ``--quick``: 0/100/250
waiting and 100 kB photos).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS, PHONE, chromium_path  # noqa: E402
from tests.fakes import serve  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402
from webapp.seed.demo import seed_demo  # noqa: E402

# A photo of about the requested size: JPEG of noise, made once in the page.
MAKE_PHOTO = """async (kb) => {
  let side = Math.round(Math.sqrt(kb * 1024 / 1.1));
  for (let tries = 0; tries < 6; tries += 1) {
    const canvas = new OffscreenCanvas(side, side);
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(side, side);
    for (let i = 0; i < image.data.length; i += 1) {
      image.data[i] = (i % 4 === 3) ? 255 : Math.floor(Math.random() * 256);
    }
    ctx.putImageData(image, 0, 0);
    const blob = await canvas.convertToBlob({type: "image/jpeg", quality: 0.8});
    if (Math.abs(blob.size - kb * 1024) < kb * 1024 * 0.15 || tries === 5) {
      self.benchPhoto = await blob.arrayBuffer();
      return blob.size;
    }
    side = Math.round(side * Math.sqrt(kb * 1024 / blob.size));
  }
}"""

REPORT = """(i) => ({
  client_uuid: crypto.randomUUID(),
  fields: [["service_code", "graffiti"], ["lat", "35.045"], ["long", "-85.31"],
           ["description", `Bench report ${i}`]],
  photos: [{data: self.benchPhoto.slice(0), type: "image/jpeg"}],
  captured_at: new Date().toISOString(),
  service_name: "Graffiti",
})"""

FILL = """async (count) => {
  const report = REPORT_MAKER;
  for (let i = 0; i < count; i += 1) {
    await Civic311Outbox.addReport(report(i));
  }
  return (await Civic311Outbox.summary()).waitingCount;
}""".replace("REPORT_MAKER", REPORT)

# The panel as first shipped: every status redraw and timer re-read the whole outbox,
# photos included, and listed every waiting report.
FULL_READ_SUMMARY = """() => {
  self.benchIndexedSummary = self.benchIndexedSummary || Civic311Outbox.summary;
  Civic311Outbox.summary = async () => {
    const db = await Civic311Outbox.openDb();
    const items = await new Promise((resolve, reject) => {
      const request = db.transaction("outbox").objectStore("outbox").getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    items.sort((a, b) => a.saved_at - b.saved_at);
    const waiting = items.filter((i) => i.state === Civic311Outbox.STATE_WAITING);
    const attention = items.filter((i) => i.state === Civic311Outbox.STATE_ATTENTION);
    const next = waiting.reduce(
      (soonest, i) => Math.min(soonest, i.next_attempt_at || 0), Number.POSITIVE_INFINITY);
    return {
      waitingCount: waiting.length, attentionCount: attention.length, waiting, attention,
      nextAttemptAt: waiting.length ? next : null,
    };
  };
}"""

SHIPPED_SUMMARY = """() => {
  if (self.benchIndexedSummary) { Civic311Outbox.summary = self.benchIndexedSummary; }
}"""

SAVE_N = """async (count) => {
  const report = REPORT_MAKER;
  const outbox = await import("/static/js/outbox.js");
  const saved = [];
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const item = await outbox.saveReport(report(i));
    await outbox.flushOutbox();
    saved.push(item.client_uuid);
  }
  await outbox.renderPanel();
  const elapsed = performance.now() - started;
  for (const uuid of saved) {
    await Civic311Outbox.discardReport(uuid);
  }
  return elapsed / count;
}""".replace("REPORT_MAKER", REPORT)


def build_app(folder: Path):
    """The app on a seeded demo database (the report page needs its services)."""
    settings = {key: getattr(TestingConfig, key) for key in dir(TestingConfig) if key.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.db'}",
        UPLOAD_DIR=str(folder / "uploads"),
        INSTANCE_DIR=str(folder / "instance"),
    )
    app = create_app(settings)
    with app.app_context():
        upgrade()
        seed_demo(request_count=5)
        db.session.remove()
    return app


def run(base_url: str, sizes: list[int], saves: int, photo_kb: int) -> list[tuple]:
    """Time per save at each outbox size, shipped and full-read, in one browser."""
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, service_workers="allow", base_url=base_url,
            permissions=["background-sync"],
        )  # fmt: skip
        filler = context.new_page()
        filler.goto("/offline")
        filler.add_script_tag(url="/static/js/outbox-core.js")
        filler.evaluate("navigator.serviceWorker.ready.then(() => true)")
        actual_kb = filler.evaluate(MAKE_PHOTO, photo_kb) / 1024
        page = context.new_page()
        page.goto("/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("!!self.Civic311Outbox")
        page.evaluate(MAKE_PHOTO, photo_kb)
        context.set_offline(True)
        waiting = 0
        for size in sizes:
            waiting = filler.evaluate(FILL, size - waiting)
            page.evaluate(SHIPPED_SUMMARY)
            shipped = page.evaluate(SAVE_N, saves)
            page.evaluate(FULL_READ_SUMMARY)
            full_read = page.evaluate(SAVE_N, saves)
            page.evaluate(SHIPPED_SUMMARY)
            rows.append((waiting, shipped, full_read))
            print(
                f"  {waiting:>4} waiting: {shipped:8.1f} ms shipped, {full_read:8.1f} ms full read",
                flush=True,
            )
        context.close()
        browser.close()
    print(f"(photo of {actual_kb:.0f} kB per report; {saves} saves per figure)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0/100/250 waiting, small photos")
    parser.add_argument("--saves", type=int, default=None, help="saves timed per figure")
    parser.add_argument("--photo-kb", type=int, default=None, help="size of each photo")
    args = parser.parse_args()
    sizes = [0, 100, 250] if args.quick else [0, 250, 600]
    saves = args.saves or 10
    photo_kb = args.photo_kb or (100 if args.quick else 200)
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        running = serve(app)
        try:
            rows = run(f"http://localhost:{running.port}", sizes, saves, photo_kb)
        finally:
            running.stop()
    empty = rows[0][1]
    print()
    print(
        "| waiting | ms per save (shipped) | × empty outbox | ms per save (full re-read) | full / shipped |"
    )
    print("|---:|---:|---:|---:|---:|")
    for waiting, shipped, full_read in rows:
        print(
            f"| {waiting} | {shipped:.1f} | {shipped / empty:.2f} | {full_read:.1f} "
            f"| {full_read / shipped:.1f}× |"
        )


if __name__ == "__main__":
    main()
